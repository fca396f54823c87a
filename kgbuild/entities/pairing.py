"""Candidate pairs: ordered entity pairs within one sentence that the schema allows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair, Sentence, normalise_name


def candidate_pairs(sentences: Iterable[Sentence], schema: RelationSchema) -> Iterator[CandidatePair]:
    for sentence in sentences:
        mentions = sentence.mentions
        for head in mentions:
            for tail in mentions:
                if head is tail or normalise_name(head.text) == normalise_name(tail.text):
                    continue
                if not schema.allows(head.type, tail.type):
                    continue
                yield CandidatePair(
                    text=sentence.text,
                    head=head,
                    tail=tail,
                    doc_id=sentence.doc_id,
                    sentence_index=sentence.index,
                    sentence_start=sentence.start,
                )
