"""One type per name within a document, so that a pair is not lost because spaCy typed one mention wrongly.

spaCy types each mention from its own sentence: "Maria Delgado" is a PERSON in the first sentence and
"Delgado" an ORG in the next, which the schema's pair rule then never offers for ``works_for``
(``kgbuild eval --dataset docs`` counts these under "type rejected"). Two rules, in this order:

1. **A surname inherits its full name's type.** A one-word name that ends exactly one multi-word PERSON
   name of the document ("Delgado" after "Maria Delgado") becomes a PERSON.
2. **Majority vote.** Every mention of a name takes the type most of its mentions have; a tie keeps the
   type seen first.

Only name types take part (a DATE or a number keeps its own type), and the mention's text and offsets
never change: the vote changes what a name is taken for, not where it is.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import replace

from kgbuild.resolution.names import NAME_TYPES
from kgbuild.types import Mention, Sentence, normalise_name


def vote_types(sentences: Sequence[Sentence]) -> list[Sentence]:
    """The document's sentences with each name's mentions retyped by the two rules above."""
    mentions = [m for s in sentences for m in s.mentions if m.type in NAME_TYPES]
    if not mentions:
        return list(sentences)
    chosen = _majority(mentions)
    chosen.update(_surnames(mentions))
    return [replace(s, mentions=tuple(_retyped(m, chosen) for m in s.mentions)) for s in sentences]


def _majority(mentions: Sequence[Mention]) -> dict[str, str]:
    votes: dict[str, Counter[str]] = defaultdict(Counter)
    for mention in mentions:
        votes[normalise_name(mention.text)][mention.type] += 1  # Counter keeps first-seen order on ties
    return {name: counts.most_common(1)[0][0] for name, counts in votes.items()}


def _surnames(mentions: Sequence[Mention]) -> dict[str, str]:
    full_names = {normalise_name(m.text) for m in mentions if m.type == "PERSON" and " " in m.text.strip()}
    endings: dict[str, set[str]] = defaultdict(set)
    for name in full_names:
        endings[name.rsplit(" ", 1)[1]].add(name)
    return {surname: "PERSON" for surname, names in endings.items() if len(names) == 1}


def _retyped(mention: Mention, chosen: dict[str, str]) -> Mention:
    if mention.type not in NAME_TYPES:
        return mention
    wanted = chosen.get(normalise_name(mention.text), mention.type)
    return mention if wanted == mention.type else replace(mention, type=wanted)
