"""Words beside a name that say what it names: "Vltava Rail, a private train operator", "the Ethiopian runner
Tigist Alemu", "born in Chicoutimi".

spaCy and the context classifier (:mod:`context_types`) read a name statistically and both err on names
they never saw: spaCy took "Vltava Rail" for a person, and the classifier read "the Polish qualifier Zofia
Wrona" as an organisation, so the schema's pair rule never offered their facts (``kgbuild eval --dataset
docs`` counts these under "type rejected"). A cue is the text saying it outright, so a name with one takes
the cue's type in the whole document, over spaCy and the classifier. The cues, matched on the words right
beside a mention (lower-case nouns only, so a name's own capitalised words are never a cue):

1. **An apposition**: ", a / an / the" then up to four lower-case words, whose last noun of
   :data:`ORG_NOUNS`, :data:`PERSON_NOUNS` or :data:`CUE_PLACE_NOUNS` before a preposition or a relative
   pronoun is the head ("Brouwerij De Kroon, a family brewery based in", "Tremblay-Roy, a former finance
   chief of", "Leuven, a university city in"; "Ana Ruiz, a partner at the firm" has none).
2. **A noun right before the name**: "the Ethiopian runner Tigist Alemu", "pilot Lukas Imboden"; an
   organisation's noun only after a word saying what kind ("the drone maker Aakash Aerial"), since "the
   company Ana Ruiz founded" names a person.
3. **An organisation's verbs and parts**: "X was founded / established / set up / incorporated /
   headquartered", "X, which is based in", "X, founded in", "Helsinki-based X", "X's founder / chief
   executive / board / headquarters / shares", "shares in X", "X shares rose", and "X is based in" unless
   spaCy took X for a person (people are based somewhere too); "works for X", "joined X" are not cues (a
   person joins a family, works for a person).
4. **A person's**: "X, 52," (an age), "X, who".
5. **A place's**: "born / raised / lives / grew up / based / headquartered / located in X", "comes / hails
   from X", "X, <a place>" ending a phrase ("Tunja, Colombia —"), and a facility whose last word is a
   landform ("the Reykjanes Peninsula"). A place cue makes a facility or a nationality a GPE ("lives in Novi
   Sad", which spaCy took for a facility), as the schema's place slots ask.
6. **An employer's**: a name spaCy took for a person (or left untyped) right before a job and a name, "Air
   Zermatt pilot Lukas Imboden" (a place keeps its type: "Paris mayor Anne Hidalgo").

Measured where they were not written (``python -m kgbuild.bench.type_cues``): on 588 CoNLL04 dev names they
fire 18 times, all right. Known limits: British sports writing's "the club, who ..." makes a club a person
(rule 4), and "the company Ana Ruiz founded" is guarded against only for organisation nouns (rule 2).

A name whose mentions carry cues of different classes gets none: which one is right is a guess. Nor does a
mention followed by a capitalised word (spaCy's "French" of "French Guiana"), nor an apposition that opens
the next clause ("near Győr, Hungary, the company said"). Only name
types and the NER's untyped proper-noun runs take part, never a pronoun's link; the words and offsets of a
mention never change.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from kgbuild.entities.name_spans import UNTYPED
from kgbuild.entities.references import ORG_NOUNS, PLACE_NOUNS
from kgbuild.resolution.names import NAME_TYPES
from kgbuild.types import Mention, Sentence, normalise_name

PERSON_NOUNS = (
    "runner", "sprinter", "athlete", "player", "qualifier", "champion", "winner", "captain", "striker", "midfielder",
    "defender", "goalkeeper", "winger", "lock", "boxer", "cyclist", "rider", "driver", "skier",
    "swimmer", "climber", "coach", "pilot", "biologist", "scientist", "researcher", "physicist",
    "chemist", "economist", "historian", "archaeologist", "engineer", "architect", "designer", "doctor", "surgeon",
    "nurse", "teacher", "professor", "student", "lawyer", "judge", "journalist", "reporter", "editor", "author",
    "writer", "novelist", "poet", "artist", "painter", "photographer", "singer", "musician", "composer", "pianist",
    "violinist", "actor", "actress", "chef", "farmer", "curator", "activist", "entrepreneur", "analyst",
    "founder", "co-founder", "chairman", "chairwoman", "spokesman", "spokeswoman", "spokesperson", "director",
    "president", "minister", "mayor", "governor", "senator", "ambassador", "executive", "chief", "veteran",
    "daughter", "son", "wife", "husband", "mother", "father", "brother", "sister", "granddaughter", "grandson",
    "great-granddaughter", "great-grandson", "widow", "widower", "teammate", "colleague")
CUE_PLACE_NOUNS = (*PLACE_NOUNS, "region", "province", "port", "island", "district", "municipality", "suburb",
                   "county", "resort")
_NOUN_CLASSES = {**{n: "ORG" for n in ORG_NOUNS}, **{n: "PERSON" for n in PERSON_NOUNS},
                 **{n: "PLACE" for n in CUE_PLACE_NOUNS}}


def _nouns(kinds: tuple[str, ...]) -> str:
    nouns = [noun for noun, kind in _NOUN_CLASSES.items() if kind in kinds]
    return "(?P<noun>" + "|".join(sorted(map(re.escape, nouns), key=len, reverse=True)) + ")"


_STOP = r"(?:of|at|for|in|on|with|from|by|to|and|or|who|which|that|whose|where|when)\b"

_APPOSITION = re.compile(r"^,\s+(?:a|an|the)\s+((?:[a-z][\w'\u2019-]*(?:\s+|(?=\W)|$)){1,4})")
_REPORTING = frozenset({"said", "says", "announced", "announces", "added", "told", "confirmed", "confirms",
                        "reported", "reports", "stated", "wrote", "declined", "denied"})
_STOP_WORD = re.compile("^" + _STOP)
_NOUN_BEFORE = (  # an organisation's noun needs a word that says what kind: "the company Ana Ruiz founded" is no cue
    re.compile(r"(?:^|[^\w-])" + _nouns(("PERSON", "PLACE")) + r"\s+$"),
    re.compile(r"(?:^|\s)(?!(?:the|a|an|this|that|its|his|her|their|our|which)\s)[\w-]+\s+" + _nouns(("ORG",))
               + r"\s+$"),
)
_AFTER: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^\s+(?:was|is|has been|had been|were|are)\s+(?:founded|established|set up|incorporated|"
                r"headquartered)\b"), "ORG"),
    (re.compile(r"^,\s+(?:which|that)\s+(?:was|is|has been|were|are)\s+(?:founded|established|set up|"
                r"incorporated|headquartered|based)\b"), "ORG"),
    (re.compile(r"^,\s+(?:founded|established|set up|incorporated|headquartered)\s+in\b"), "ORG"),
    (re.compile(r"^['\u2019]s\s+(?:founder|co-founder|chief executive|ceo|chairman|chairwoman|board|"
                r"headquarters|shares|shareholders)\b"), "ORG"),
    (re.compile(r"^\s+shares\s+(?:rose|fell|jumped|dropped|climbed|slid|gained|lost|were|are)\b"), "ORG"),
    (re.compile(r"^,\s+\d{1,3},"), "PERSON"),
    (re.compile(r"^,\s+who\b"), "PERSON"),
)
_BEFORE: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\w-based\s+$"), "ORG"),
    (re.compile(r"\bshares\s+(?:in|of)\s+$", re.IGNORECASE), "ORG"),
    (re.compile(r"\b(?:born|raised|lives|lived|living|grew up|resides|based|headquartered|located)\s+in\s+$",
                re.IGNORECASE), "PLACE"),
    (re.compile(r"\b(?:comes|came|hails|hailed)\s+from\s+$", re.IGNORECASE), "PLACE"),
)
_EMPLOYER = re.compile(r"^\s+(?:pilot|coach|engineer|director|chief executive|chairman|chairwoman|spokesman|"
                       r"spokeswoman|spokesperson|striker|player|captain|manager|founder|president|economist|"
                       r"analyst|researcher|scientist|executive|official|boss|head|goalkeeper|midfielder|defender)"
                       r"\s+[^\W\d_]")
_GEOGRAPHIC_HEADS = frozenset({"peninsula", "valley", "island", "islands", "mountains", "coast", "bay", "lake",
                               "river", "desert", "plateau", "gulf", "sea", "strait"})
_BASED = re.compile(r"^\s+(?:is|was|are|were|has been|had been)\s+based\s+in\b")
_COMMA = re.compile(r",\s+")
_PHRASE_END = re.compile(r"\s*(?:[,.;:)\u2013\u2014-]|$)")
CUE_TYPES = {"ORG": "ORG", "PERSON": "PERSON", "PLACE": "GPE"}
_PLACE_TYPES = frozenset({"GPE", "LOC"})


def mention_cue(sentence: Sentence, mention: Mention) -> str | None:
    """The class (ORG, PERSON or PLACE) the words beside ``mention`` in ``sentence`` give it, if any."""
    text = sentence.text
    before, after = text[:mention.start], text[mention.end:]
    if after[:1].isspace() and after.lstrip()[:1].isupper():
        return None  # a name cut short ("French" of "French Guiana"): its cues belong to the whole name
    found = {kind for pattern, kind in _AFTER if pattern.search(after)}
    if mention.type != "PERSON" and _BASED.match(after):
        found.add("ORG")  # a place is located somewhere, an organisation based there (a person may be too)
    employer = _EMPLOYER.match(after) if mention.type in ("PERSON", UNTYPED) else None
    if employer is not None and after[employer.end() - 1].isupper():
        found.add("ORG")  # "Air Zermatt pilot Lukas Imboden": whose pilot
    if _before_a_place(sentence, mention):
        found.add("PLACE")
    if mention.type == "FAC" and mention.text.split()[-1].lower() in _GEOGRAPHIC_HEADS:
        found.add("PLACE")  # "the Reykjanes Peninsula", which spaCy takes for a building
    found |= {kind for pattern, kind in _BEFORE if pattern.search(before)}
    for pattern in _NOUN_BEFORE:
        if (match := pattern.search(before)) is not None:
            found.add(_NOUN_CLASSES[match.group("noun")])
    if (kind := _apposition(after)) is not None:
        found.add(kind)
    return found.pop() if len(found) == 1 else None


def _before_a_place(sentence: Sentence, mention: Mention) -> bool:
    """"Tunja, Colombia —", "Győr, Hungary,": a name, a comma and a country or region that ends a phrase (not
    "Acme, Germany's largest ...")."""
    for other in sentence.mentions:
        if other.type in _PLACE_TYPES and not other.refers_to and other.start > mention.end:
            between, rest = sentence.text[mention.end:other.start], sentence.text[other.end:]
            return _COMMA.fullmatch(between) is not None and _PHRASE_END.match(rest) is not None
    return False


def _apposition(after: str) -> str | None:
    """The class of the apposition's head noun: the last known noun before a preposition, a relative pronoun
    or punctuation ("a university city in ..." is a city)."""
    match = _APPOSITION.search(after)
    if match is None:
        return None
    kind = None
    for word in match.group(1).split():
        if word in _REPORTING:
            return None  # "Győr, Hungary, the company said": the subject of the next clause, no apposition
        if _STOP_WORD.match(word):
            break
        kind = _NOUN_CLASSES.get(word, _NOUN_CLASSES.get(word.removesuffix("s"), kind))
    return kind


def name_cues(sentences: Sequence[Sentence]) -> dict[str, str]:
    """Each normalised name's cue class, where its mentions' cues agree."""
    classes: dict[str, set[str]] = defaultdict(set)
    for sentence in sentences:
        for mention in sentence.mentions:
            if _takes_part(mention) and (kind := mention_cue(sentence, mention)) is not None:
                classes[normalise_name(mention.text)].add(kind)
    return {name: kinds.pop() for name, kinds in classes.items() if len(kinds) == 1}


def apply_cues(sentences: Sequence[Sentence], cues: dict[str, str]) -> list[Sentence]:
    """The sentences with every mention of a cued name typed as its cue says (a place keeps GPE or LOC)."""
    if not cues:
        return list(sentences)
    return [replace(s, mentions=tuple(_cued(m, cues) for m in s.mentions)) for s in sentences]


def _takes_part(mention: Mention) -> bool:
    return (mention.type in NAME_TYPES or mention.type == UNTYPED) and not mention.refers_to


def _cued(mention: Mention, cues: dict[str, str]) -> Mention:
    kind = cues.get(normalise_name(mention.text)) if _takes_part(mention) else None
    if kind is None or (kind == "PLACE" and mention.type in _PLACE_TYPES):
        return mention
    return replace(mention, type=CUE_TYPES[kind])
