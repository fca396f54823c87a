"""Candidate pairs: ordered entity pairs within one sentence that the schema allows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from kgbuild.entities.values import date_like
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair, Mention, Sentence, normalise_name


def candidate_pairs(sentences: Iterable[Sentence], schema: RelationSchema) -> Iterator[CandidatePair]:
    for sentence in sentences:
        mentions = sentence.mentions
        for head in mentions:
            for tail in mentions:
                if head is tail or normalise_name(head.name) == normalise_name(tail.name):
                    continue
                if not schema.allows(head.type, tail.type) or not (_fits(head) and _fits(tail)):
                    continue
                yield CandidatePair(
                    text=sentence.text,
                    head=head,
                    tail=tail,
                    doc_id=sentence.doc_id,
                    sentence_index=sentence.index,
                    sentence_start=sentence.start,
                )


def _fits(mention: Mention) -> bool:
    """A DATE mention fills a date slot only when it is a calendar date or year, not an age or a duration."""
    return mention.type != "DATE" or date_like(mention.text)
