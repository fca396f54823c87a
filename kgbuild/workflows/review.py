"""The review workflow: stored triples for a reviewer, and each decision applied to the graph and the bank.

A decision is appended to the correction bank first (flushed to disk), then applied to the graph in one
transaction: a crash in between leaves the decision recorded, and the next ingest honours it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kgbuild.errors import InputError
from kgbuild.graph.store import GraphStore
from kgbuild.relations.corrections import DECISIONS, Correction, append_correction
from kgbuild.schema import RelationSchema
from kgbuild.types import Triple


@dataclass(frozen=True)
class ReviewItem:
    """One stored triple (one supporting sentence) as the page shows it."""

    id: str
    triple: Triple
    head_span: tuple[int, int]  # offsets within the sentence
    tail_span: tuple[int, int]

    @property
    def reviewed(self) -> bool:
        return bool(self.triple.evidence.reviewed_by)


def item_id(triple: Triple) -> str:
    return hashlib.sha256(f"{triple.label}\x1f{triple.evidence.to_json()}".encode()).hexdigest()[:20]


def review_items(store: GraphStore) -> list[ReviewItem]:
    """Unreviewed triples first, lowest confidence first: where a reviewer's minute helps most."""
    items = [ReviewItem(item_id(t), t, *_spans(t)) for t in store.iter_triples()]
    return sorted(items, key=lambda i: (i.reviewed, i.triple.evidence.confidence, i.id))


def _spans(triple: Triple) -> tuple[tuple[int, int], tuple[int, int]]:
    """Head and tail offsets within the sentence, from the stored document offsets."""
    ev = triple.evidence
    start = ev.sentence_start
    if start < 0:  # evidence written before sentence offsets were stored: find the spellings
        head_at = ev.sentence.find(ev.head_text or triple.head.name)
        tail_at = ev.sentence.find(ev.tail_text or triple.tail.name)
        return ((head_at, head_at + len(ev.head_text or triple.head.name)),
                (tail_at, tail_at + len(ev.tail_text or triple.tail.name)))
    return (ev.head_start - start, ev.head_end - start), (ev.tail_start - start, ev.tail_end - start)


def decide(store: GraphStore, schema: RelationSchema, bank: Path, item: ReviewItem, decision: str,
           label: str | None = None, wrong: str = "", reviewer: str = "reviewer") -> Correction:
    """Record one decision in the bank, then apply it to the graph."""
    if decision not in DECISIONS:
        raise InputError(f"unknown decision {decision!r}; one of {', '.join(DECISIONS)}")
    old = item.triple.label
    new = {"accept": old, "wrong_entity": old, "reject": schema.no_relation}.get(decision, label or "")
    if new not in schema.all_labels:
        raise InputError(f"label {new!r} is not in schema {schema.name!r}")
    if decision == "wrong_entity" and wrong not in ("head", "tail"):
        raise InputError("a wrong-entity decision names the wrong span: head or tail")
    triple, ev = item.triple, item.triple.evidence
    at = datetime.now(UTC).isoformat(timespec="seconds")
    correction = Correction(
        decision, ev.sentence, ev.head_text or triple.head.name, triple.head.type, *item.head_span,
        ev.tail_text or triple.tail.name, triple.tail.type, *item.tail_span, old, new, ev.doc_id, ev.model,
        reviewer, at, wrong)
    append_correction(bank, correction)
    keep = decision != "wrong_entity" and new != schema.no_relation
    store.review(triple, new if keep else None, reviewer, at)
    return correction
