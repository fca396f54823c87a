"""Pronouns and short descriptions as mentions of the entity they refer to, by documented rules.

News states many facts about someone named a sentence earlier: "Ana Ruiz runs Norvik. She was born on
3 May 1980." Without a link, "She" is no entity and the birth date is lost (``kgbuild eval --dataset
docs`` counts these under "pronoun or description"). coreferee, the maintained spaCy coreference
library, installs here, but its English model is a download from GitHub that this project cannot ship,
so kgbuild links by rules, measured on ``examples/eval``:

1. **What is linked.** The subject pronouns "he" and "she" and an age used as a name, "the 27-year-old"
   (a person); "it" or "its" opening a sentence (an organisation: "Its headquarters are in Tromsø.");
   "the company", "the agency", ... (an organisation, :data:`ORG_NOUNS`) and "the city", "the town" (a
   place); and a job title that opens a sentence right before a person's name, "Chief executive Ana Ruiz
   said ..." (an organisation, :data:`ROLE_TITLES`, link ``role``: the title stands for the employer the
   article is about, so the person's ``works_for`` pair exists). Political titles ("President", "Mayor")
   are left out: they name an office of a country or a city, not an employer.
2. **To what.** The most recent earlier sentence, at most :data:`WINDOW` sentences back, that names an
   entity of the right type; of its names of that type, the first (news puts the subject first). A
   pronoun already linked counts as the name it stands for, so "She ... She ..." stays with one person.
3. **Never.** When a name of that type comes earlier in the same sentence ("Ruiz said she ...": the
   name is there to pair with already), or when the words overlap a name spaCy found (spaCy's reading of
   "27-year-old" as a date does not count: an age fills no date slot, ``entities/values.py``).

A link never changes a name: the mention keeps the words as written, and ``refers_to`` / ``link`` say
what it stands for and why. The ingest stores each link as an alias decision, listed by ``kgbuild
aliases`` and undone like one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from kgbuild.types import Alias, Mention, Sentence

WINDOW = 3  # sentences back to look for the name a reference stands for
PERSON_TYPES = ("PERSON",)
ORG_TYPES = ("ORG",)
PLACE_TYPES = ("GPE",)
ORG_NOUNS = ("company", "firm", "group", "agency", "bank", "charity", "club", "startup", "start-up", "carrier",
             "airline", "insurer", "retailer", "carmaker", "brewery", "foundation", "organisation", "organization",
             "university", "institute", "ministry", "manufacturer", "maker", "lab", "laboratory", "team", "council",
             "band", "orchestra", "museum", "hospital", "school", "newspaper", "publisher", "studio", "cooperative",
             "co-operative", "trust", "chain", "operator")
PLACE_NOUNS = ("city", "town", "village", "capital")

ROLE_TITLES = ("chief executive", "chief executive officer", "ceo", "chairman", "chairwoman", "chairperson",
               "managing director", "general manager", "head coach", "coach", "founder", "co-founder",
               "spokesman", "spokeswoman", "spokesperson", r"chief [a-z]+")  # patterns, matched as words

AGE_DESCRIPTION = r"the \d{1,3}-year-old"
_PERSON = re.compile(r"\b(?:he|she)\b", re.IGNORECASE)
_AGE = re.compile(r"\b" + AGE_DESCRIPTION + r"\b", re.IGNORECASE)
_IT = re.compile(r"^its?\b", re.IGNORECASE)
_ORG = re.compile(r"\bthe (?:" + "|".join(map(re.escape, ORG_NOUNS)) + r")\b", re.IGNORECASE)
_PLACE = re.compile(r"\bthe (?:" + "|".join(PLACE_NOUNS) + r")\b", re.IGNORECASE)
_ROLE = re.compile(r"^(?:" + "|".join(sorted(ROLE_TITLES, key=len, reverse=True)) + r")\b(?=,?\s+\S)",
                   re.IGNORECASE)  # the longest title first: "Chief executive officer Ana Ruiz"
_RULES: tuple[tuple[re.Pattern[str], tuple[str, ...], str], ...] = (
    (_PERSON, PERSON_TYPES, "pronoun"), (_AGE, PERSON_TYPES, "description"), (_IT, ORG_TYPES, "pronoun"),
    (_ORG, ORG_TYPES, "description"), (_PLACE, PLACE_TYPES, "description"), (_ROLE, ORG_TYPES, "role"))


def link_references(sentences: Sequence[Sentence]) -> list[Sentence]:
    """The document's sentences, each with a mention added for every pronoun or description the rules
    link to an earlier name (in text order among the sentence's mentions)."""
    linked: list[Sentence] = []
    for position, sentence in enumerate(sentences):
        earlier = linked[max(0, position - WINDOW):position]
        added = [mention for rule in _RULES for mention in _references(sentence, earlier, *rule)]
        if added:
            mentions = tuple(sorted((*sentence.mentions, *added), key=lambda m: (m.start, m.end)))
            sentence = replace(sentence, mentions=mentions)
        linked.append(sentence)
    return linked


def _references(sentence: Sentence, earlier: Sequence[Sentence], pattern: re.Pattern[str], types: tuple[str, ...],
                link: str) -> list[Mention]:
    found = []
    for match in pattern.finditer(sentence.text):
        start, end = match.span()
        if any(m.start < end and start < m.end and m.type != "DATE" for m in sentence.mentions):
            continue  # part of a name spaCy found ("The Company Store")
        if any(m.type in types and m.end <= start for m in sentence.mentions):
            continue  # a name of that type comes first in this sentence
        if link == "role" and not _names_a_person_next(sentence, end):
            continue  # "Chief executive officers said ...": a title, but of nobody named
        if link == "role" and any(m.type in types for m in sentence.mentions):
            continue  # "Coach Ana Ruiz left Norvik": the employer is named, its pair exists already
        antecedent = _antecedent(earlier, types)
        if antecedent is not None:
            found.append(Mention(match.group(0), antecedent.type, start, end, refers_to=antecedent.name, link=link))
    return found


def _names_a_person_next(sentence: Sentence, end: int) -> bool:
    """Whether a person's name starts right after ``end`` (past a comma and spaces)."""
    after = end + len(sentence.text[end:]) - len(sentence.text[end:].lstrip(", "))
    return any(m.type in PERSON_TYPES and m.start == after for m in sentence.mentions)


def _antecedent(earlier: Sequence[Sentence], types: tuple[str, ...]) -> Mention | None:
    for sentence in reversed(earlier):
        named = [m for m in sentence.mentions if m.type in types]
        if named:
            return named[0]
    return None


def reference_aliases(doc_id: str, sentences: Sequence[Sentence]) -> list[Alias]:
    """Each link as an alias decision of its document ("She" → "Ana Ruiz", reason ``pronoun``), once per
    spelling and name, spelled as first written."""
    decisions: dict[tuple[str, str, str], Alias] = {}
    for mention in (m for s in sentences for m in s.mentions if m.link):
        decisions.setdefault((mention.text.casefold(), mention.type, mention.refers_to),
                             Alias(mention.text, mention.type, mention.refers_to, mention.link, 1.0, doc_id))
    return list(decisions.values())
