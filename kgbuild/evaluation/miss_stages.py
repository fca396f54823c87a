"""For a gold triple the pipeline missed, the first stage that lost it: what to build next is chosen by
these counts (``kgbuild eval --dataset docs``).

The stages, in the order a document goes through them:

1. ``entity not found``: spaCy found no mention of the head or of the tail anywhere in the document;
2. ``type rejected``: both are mentioned in one sentence, but with types the schema's pair rule does not
   offer for this relation (a person typed as a place loses all her facts);
3. ``pronoun or description``: head and tail never share a sentence, and a sentence holding one of them
   refers to something by a pronoun or a description ("She lives in Lyon.", "the company");
4. ``different sentences``: head and tail never share a sentence, with no such reference either;
5. ``labelled no_relation``, ``below threshold`` or ``labelled wrong``: the pair was offered and the model
   answered ``no_relation``, or the right label under the confidence threshold, or another label.

The gold file names entities and triples, not the sentence a fact is stated in, so stages 3 and 4 are
read from the sentences around the names: a sign, not proof.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from kgbuild.datasets.docs_gold import GoldDocument
from kgbuild.entities.references import AGE_DESCRIPTION, ORG_NOUNS, PLACE_NOUNS, ROLE_TITLES
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair, LabelledPair, Sentence

ENTITY_NOT_FOUND = "entity not found"
TYPE_REJECTED = "type rejected"
PRONOUN = "pronoun or description"
DIFFERENT_SENTENCES = "different sentences"
NO_RELATION = "labelled no_relation"
BELOW_THRESHOLD = "below threshold"
WRONG_LABEL = "labelled wrong"
MISS_STAGES = (ENTITY_NOT_FOUND, TYPE_REJECTED, PRONOUN, DIFFERENT_SENTENCES, NO_RELATION, BELOW_THRESHOLD,
               WRONG_LABEL)
ENTITY_STAGES = frozenset({ENTITY_NOT_FOUND, TYPE_REJECTED, PRONOUN, DIFFERENT_SENTENCES})

_REFERENCE = re.compile(  # the words the linker knows (entities/references.py), and the pronouns it leaves
    r"\b(?:he|she|they|it|him|her|his|hers|its|their|them|" + AGE_DESCRIPTION + r"|the (?:"
    + "|".join(map(re.escape, (*ORG_NOUNS, *PLACE_NOUNS))) + r")|^(?:" + "|".join(ROLE_TITLES) + r"))\b",
    re.IGNORECASE)


def miss_stage(gold: GoldDocument, head: str, relation: str, tail: str, sentences: Sequence[Sentence],
               labelled: Sequence[LabelledPair], schema: RelationSchema) -> str:
    """The first stage that lost the gold triple (head, relation, tail), given as canonical names."""
    holding: dict[str, set[int]] = {head: set(), tail: set()}
    for position, sentence in enumerate(sentences):
        for mention in sentence.mentions:
            name = gold.canonical(mention.name)
            if name in holding:
                holding[name].add(position)
    if not holding[head] or not holding[tail]:
        return ENTITY_NOT_FOUND
    offered = [item for item in labelled if _names(gold, item.pair) == (head, tail)
               and relation in schema.allowed_labels(item.pair.head.type, item.pair.tail.type)]
    if not offered:
        if holding[head] & holding[tail]:
            return TYPE_REJECTED
        alone = holding[head] ^ holding[tail]
        return PRONOUN if any(_REFERENCE.search(sentences[i].text) for i in alone) else DIFFERENT_SENTENCES
    best = max(offered, key=lambda item: item.scores.get(relation, 0.0))
    if best.label == schema.no_relation and best.scores and max(best.scores, key=best.scores.__getitem__) == relation:
        return BELOW_THRESHOLD
    return NO_RELATION if best.label == schema.no_relation else WRONG_LABEL


def _names(gold: GoldDocument, pair: CandidatePair) -> tuple[str, str]:
    return gold.canonical(pair.head.name), gold.canonical(pair.tail.name)
