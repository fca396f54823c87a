"""One type per name within a document, so that a pair is not lost because spaCy typed one mention wrongly.

spaCy types each mention from its own sentence: "Maria Delgado" is a PERSON in the first sentence and
"Delgado" an ORG in the next, which the schema's pair rule then never offers for ``works_for``
(``kgbuild eval --dataset docs`` counts these under "type rejected"). Three rules; the later wins:

1. **Majority vote.** Every mention of a name takes the type most of its mentions have; a tie keeps the
   type seen first.
2. **A company's short name inherits its full name's type.** A one-word name spaCy took for a PERSON that
   begins exactly one multi-word ORG name of the document ("Hoshino" after "Hoshino Motors") becomes an ORG.
3. **A surname inherits its full name's type.** A one-word name that ends exactly one multi-word PERSON
   name of the document ("Delgado" after "Maria Delgado") becomes a PERSON.

The short-name rules guess from spelling alone, so they leave ``settled`` names alone: those the context
classifier was sure of ("Zermatt" read as a place stays one after "Air Zermatt" was taken for a person).

Only name types take part (a DATE or a number keeps its own type), and the mention's text and offsets
never change: the vote changes what a name is taken for, not where it is.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import replace

from kgbuild.resolution.names import NAME_TYPES
from kgbuild.types import Mention, Sentence, normalise_name


def vote_types(sentences: Sequence[Sentence], settled: Collection[str] = ()) -> list[Sentence]:
    """The document's sentences with each name's mentions retyped by the rules above; ``settled`` holds
    normalised names whose type the short-name rules must not change."""
    mentions = [m for s in sentences for m in s.mentions if m.type in NAME_TYPES]
    if not mentions:
        return list(sentences)
    chosen = _majority(mentions)
    short_names = {**_company_short_names(mentions), **_surnames(mentions)}
    chosen.update((name, kind) for name, kind in short_names.items() if name not in settled)
    return [replace(s, mentions=tuple(_retyped(m, chosen) for m in s.mentions)) for s in sentences]


def _majority(mentions: Sequence[Mention]) -> dict[str, str]:
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for mention in mentions:
        votes[normalise_name(mention.text)][mention.type] += 1  # Counter keeps first-seen order on ties
    return {name: counts.most_common(1)[0][0] for name, counts in votes.items()}


def _company_short_names(mentions: Sequence[Mention]) -> dict[str, str]:
    persons = {normalise_name(m.text) for m in mentions if m.type == "PERSON" and " " not in m.text.strip()}
    starts = _words_of_one_name(_full_names(mentions, "ORG"), lambda name: name.split(" ", 1)[0])
    return {short: "ORG" for short in starts if short in persons}


def _surnames(mentions: Sequence[Mention]) -> dict[str, str]:
    return dict.fromkeys(_words_of_one_name(_full_names(mentions, "PERSON"), lambda name: name.rsplit(" ", 1)[1]),
                         "PERSON")


def _full_names(mentions: Sequence[Mention], kind: str) -> set[str]:
    return {normalise_name(m.text) for m in mentions if m.type == kind and " " in m.text.strip()}


def _words_of_one_name(names: set[str], word: Callable[[str], str]) -> set[str]:
    """The words (first or last, as ``word`` picks) that exactly one of ``names`` has there."""
    counts = Counter(word(name) for name in names)
    return {w for w, count in counts.items() if count == 1}


def _retyped(mention: Mention, chosen: dict[str, str]) -> Mention:
    if mention.type not in NAME_TYPES:
        return mention
    wanted = chosen.get(normalise_name(mention.text), mention.type)
    return mention if wanted == mention.type else replace(mention, type=wanted)
