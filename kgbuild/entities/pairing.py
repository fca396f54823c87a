"""Candidate pairs: ordered entity pairs that the schema allows, within one sentence or, with a window,
across adjacent sentences of one paragraph ("Acme is a drone maker. It is based in Pune." once "It" is
linked; "Acme opened in 2019. Its home is Pune.")."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from kgbuild.entities.values import date_like
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair, Mention, Sentence, normalise_name

MAX_GAP = 3  # characters between two sentences that may pair: wider means a skipped sentence stood between


def candidate_pairs(sentences: Iterable[Sentence], schema: RelationSchema,
                    window: int = 0) -> Iterator[CandidatePair]:
    """Every allowed pair within a sentence, then (``window`` > 0) those whose tail or head stands in one of
    the next ``window`` sentences of the same paragraph; the model reads the sentences' span as one text."""
    ordered = list(sentences)
    for position, sentence in enumerate(ordered):
        yield from _pairs(sentence, sentence.mentions, sentence.mentions, schema)
        for later in _following(ordered, position, window):
            span = _span(sentence, later)
            shifted = tuple(_shift(m, later.start - sentence.start) for m in later.mentions)
            yield from _pairs(span, sentence.mentions, shifted, schema)
            yield from _pairs(span, shifted, sentence.mentions, schema)


def _following(ordered: Sequence[Sentence], position: int, window: int) -> Iterator[Sentence]:
    """The next ``window`` sentences while they stay in the paragraph and follow without a gap."""
    previous = ordered[position]
    for later in ordered[position + 1:position + 1 + window]:
        gap = later.start - (previous.start + len(previous.text))
        if later.doc_id != previous.doc_id or later.paragraph != previous.paragraph or not 0 <= gap <= MAX_GAP:
            return
        yield later
        previous = later


def _span(first: Sentence, last: Sentence) -> Sentence:
    """The text from ``first``'s start to ``last``'s end; the whitespace between sentences (a line break in
    a hard-wrapped paragraph) reads as spaces, so offsets stay the document's."""
    text = first.text.ljust(last.start - first.start) + last.text
    return Sentence(first.doc_id, first.index, first.start, text, paragraph=first.paragraph)


def _shift(mention: Mention, by: int) -> Mention:
    return Mention(mention.text, mention.type, mention.start + by, mention.end + by, mention.refers_to, mention.link)


def _pairs(sentence: Sentence, heads: Sequence[Mention], tails: Sequence[Mention],
           schema: RelationSchema) -> Iterator[CandidatePair]:
    for head in heads:
        for tail in tails:
            if head is tail or normalise_name(head.name) == normalise_name(tail.name):
                continue
            if not (schema.allows(head.type, tail.type) and _fits(head) and _fits(tail)):
                continue
            yield CandidatePair(text=sentence.text, head=head, tail=tail, doc_id=sentence.doc_id,
                                sentence_index=sentence.index, sentence_start=sentence.start)


def _fits(mention: Mention) -> bool:
    """A DATE mention fills a date slot only when it is a calendar date or year, not an age or a duration."""
    return mention.type != "DATE" or date_like(mention.text)
