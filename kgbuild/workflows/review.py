"""The review workflow: stored triples for a reviewer, and each decision applied to the graph and the bank.

A decision is appended to the correction bank first (flushed to disk), then applied to the graph in one
transaction: a crash in between leaves the decision recorded, and the next ingest honours it.

An evidence record the store cannot give back as a readable :class:`Evidence` (not JSON, fields missing or
of the wrong kind) becomes one :class:`BrokenItem`: shown, never decided on, and never the reason the
other items cannot be read.
"""

from __future__ import annotations

import hashlib
import json
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kgbuild.errors import ConfigError, InputError, KgbuildError
from kgbuild.graph.store import FactRow, GraphStore
from kgbuild.relations.corrections import DECISIONS, Correction, append_correction
from kgbuild.schema import RelationSchema
from kgbuild.types import Entity, Evidence, Triple

# What reading one stored evidence record may raise: today's json/dataclass errors, or a KgbuildError.
RECORD_ERRORS: tuple[type[Exception], ...] = (KgbuildError, ValueError, KeyError, TypeError)
_EVIDENCE_TYPES: dict[str, Any] = typing.get_type_hints(Evidence)
_SHOWN = 300  # characters of a broken record shown on the page


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


@dataclass(frozen=True)
class BrokenItem:
    """One stored evidence record that cannot be read: shown as text, with no decision to make."""

    id: str
    head: str
    label: str
    tail: str
    record: str  # the stored text, shortened
    problem: str
    keys: frozenset[str] = field(default_factory=frozenset)  # the stored keys of the edge's two entities


@dataclass(frozen=True)
class ReviewRows:
    items: list[ReviewItem]
    broken: list[BrokenItem]


PAGE_SIZE = 100  # fact edges per page; each shows one row per supporting sentence


@dataclass(frozen=True)
class ReviewPage:
    """One page of the review list, read from the store by the page's facts only."""

    rows: ReviewRows
    total: int  # fact edges that pass the filter
    page: int
    pages: int
    min_confidence: float


def item_id(triple: Triple) -> str:
    """A hash of the label and the evidence record, then the edge's two entity keys in hex: a decision names
    its triple and where to find it, so the page never has to read the whole graph to apply it."""
    digest = hashlib.sha256(f"{triple.label}\x1f{triple.evidence.to_json()}".encode()).hexdigest()[:20]
    return digest + _edge_hex(triple.head.key, triple.tail.key)


def item_keys(wanted: str) -> tuple[str, str] | None:
    """The head and tail keys an item id names, or None for an id no page could have shown."""
    try:
        head, tail = bytes.fromhex(wanted[20:]).decode("utf-8").split("\x1f")
    except ValueError:
        return None
    return head, tail


def _edge_hex(head_key: str, tail_key: str) -> str:
    return f"{head_key}\x1f{tail_key}".encode().hex()


def review_items(store: GraphStore, schema: RelationSchema | None = None) -> list[ReviewItem]:
    """Unreviewed triples first, lowest confidence first: where a reviewer's minute helps most. Unreadable
    evidence records are left out (:func:`review_rows` lists them)."""
    return review_rows(store, schema).items


def review_rows(store: GraphStore, schema: RelationSchema | None = None) -> ReviewRows:
    """Every readable item, sorted as :func:`review_items`, and every unreadable record: the whole store (the
    page reads :func:`review_page` instead)."""
    rows, _ = store.facts_page()
    return read_rows(rows, schema)


def review_page(store: GraphStore, schema: RelationSchema, page: int = 1, min_confidence: float = 0.0,
                size: int = PAGE_SIZE) -> ReviewPage:
    """Page ``page`` (from 1) of the facts at or above ``min_confidence``, as the store orders them: facts
    with sentences nobody reviewed first, least confident first; within the page, by sentence the same way."""
    rows, total = store.facts_page((max(page, 1) - 1) * size, size, min_confidence)
    pages = max(1, -(-total // size))
    return ReviewPage(read_rows(rows, schema), total, max(page, 1), pages, min_confidence)


def find_item(store: GraphStore, schema: RelationSchema, wanted: str) -> tuple[ReviewItem | BrokenItem | None,
                                                                              list[BrokenItem]]:
    """The item (or unreadable record) an id names, read from the facts around its two entities only, and the
    unreadable records among those facts (a decision rebuilds them, :func:`blocking`)."""
    keys = item_keys(wanted)
    if keys is None:
        return None, []
    around = read_rows(store.facts_touching(sorted(set(keys))), schema)
    candidates: list[ReviewItem | BrokenItem] = [*around.items, *around.broken]
    return next((i for i in candidates if i.id == wanted), None), around.broken


def blocking(item: ReviewItem, broken: list[BrokenItem]) -> BrokenItem | None:
    """An unreadable record on an edge of ``item``'s head or tail: deciding on ``item`` rebuilds those
    edges, which cannot be done without reading it."""
    keys = {item.triple.head.key, item.triple.tail.key}
    return next((b for b in broken if b.keys & keys), None)


def _item(triple: Triple) -> ReviewItem:
    return ReviewItem(item_id(triple), triple, *_spans(triple))


def _sorted(items: list[ReviewItem]) -> list[ReviewItem]:
    return sorted(items, key=lambda i: (i.reviewed, i.triple.evidence.confidence, i.id))


def read_rows(rows: Sequence[FactRow], schema: RelationSchema | None) -> ReviewRows:
    """Each stored evidence record read on its own (labels from ``schema``, the relationship type where it
    lacks one), so that one bad record costs one row."""
    labels = {v: k for k, v in schema.relationship_types.items()} if schema else {}
    items: list[ReviewItem] = []
    broken: list[BrokenItem] = []
    for row in rows:
        label = labels.get(row.rel_type) or row.label or row.rel_type
        keys = frozenset(k for k in (row.head_key, row.tail_key) if isinstance(k, str))
        where = (label, row.head_name, row.tail_name, _edge_hex(str(row.head_key), str(row.tail_key)), keys)
        if row.evidence is None:
            continue
        if not isinstance(row.evidence, list):
            broken.append(_broken(*where[:3], row.evidence, "the evidence is not a list", *where[3:]))
            continue
        for record in row.evidence:
            try:
                triple = Triple(Entity(row.head_name, row.head_type), label, Entity(row.tail_name, row.tail_type),
                                Evidence.from_json(record))
                problem = _problem(triple)
            except RECORD_ERRORS as exc:
                problem = _describe(exc)
            if problem:
                broken.append(_broken(*where[:3], record, problem, *where[3:]))
            else:
                items.append(_item(triple))
    return ReviewRows(_sorted(items), sorted(broken, key=lambda b: b.id))


def _problem(triple: Triple) -> str | None:
    """Why ``triple`` cannot be shown and decided on, or None: every field must be of its declared kind."""
    for what, value in (("head name", triple.head.name), ("head type", triple.head.type),
                        ("tail name", triple.tail.name), ("tail type", triple.tail.type)):
        if not isinstance(value, str):
            return f"the {what} is not text"
    for name, kind in _EVIDENCE_TYPES.items():
        value = getattr(triple.evidence, name)
        ok = {str: isinstance(value, str), int: isinstance(value, int) and not isinstance(value, bool),
              float: isinstance(value, int | float) and not isinstance(value, bool)}.get(kind, True)
        if not ok:
            return f"evidence field {name!r} is not of type {getattr(kind, '__name__', kind)}"
    return None


def _describe(exc: BaseException) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON ({exc.msg})"
    if isinstance(exc, KeyError):
        return f"evidence field {exc} is missing"
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"not an evidence record: {text[:200]}"


def _broken(label: str, head: Any, tail: Any, record: Any, problem: str, edge: str,
            keys: frozenset[str]) -> BrokenItem:
    raw = record if isinstance(record, str) else json.dumps(record, ensure_ascii=False, default=str)
    shown = raw if len(raw) <= _SHOWN else raw[:_SHOWN] + "…"
    digest = hashlib.sha256(f"broken\x1f{label}\x1f{head}\x1f{tail}\x1f{raw}".encode()).hexdigest()[:20]
    return BrokenItem(digest + edge, str(head), label, str(tail), shown, problem, keys)


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


def check_decision(schema: RelationSchema, item: ReviewItem, decision: str, label: str | None = None,
                   wrong: str = "") -> str:
    """The label ``decision`` leaves on ``item``; an :class:`InputError` for a decision that cannot be made."""
    if decision not in DECISIONS:
        raise InputError(f"unknown decision {decision!r}; one of {', '.join(DECISIONS)}")
    old = item.triple.label
    new = {"accept": old, "wrong_entity": old, "reject": schema.no_relation}.get(decision, label or "")
    if new not in schema.all_labels:
        raise InputError(f"label {new!r} is not in schema {schema.name!r}")
    if decision == "wrong_entity" and wrong not in ("head", "tail"):
        raise InputError("a wrong-entity decision names the wrong span: head or tail")
    return new


def check_bank(bank: Path) -> None:
    """Corrections are appended to a regular file in the bank's own folder: never through a link that
    leaves it, never into a FIFO or device (opening one would hang or write elsewhere)."""
    if bank.is_symlink() and bank.resolve().parent != bank.parent.resolve():
        raise ConfigError(f"the correction bank {bank} is a link out of its folder; refusing to write through it")
    if bank.exists() and not bank.is_file():
        raise ConfigError(f"the correction bank {bank} is not a regular file")


def decide(store: GraphStore, schema: RelationSchema, bank: Path, item: ReviewItem, decision: str,
           label: str | None = None, wrong: str = "", reviewer: str = "reviewer") -> Correction:
    """Record one decision in the bank, then apply it to the graph. Nothing is written unless the decision
    is valid and the bank is a plain file in its folder."""
    new = check_decision(schema, item, decision, label, wrong)
    check_bank(bank)
    wrong = wrong if decision == "wrong_entity" else ""
    triple, ev = item.triple, item.triple.evidence
    at = datetime.now(UTC).isoformat(timespec="seconds")
    correction = Correction(
        decision, ev.sentence, ev.head_text or triple.head.name, triple.head.type, *item.head_span,
        ev.tail_text or triple.tail.name, triple.tail.type, *item.tail_span, triple.label, new, ev.doc_id,
        ev.model, reviewer, at, wrong)
    append_correction(bank, correction)
    keep = decision != "wrong_entity" and new != schema.no_relation
    store.review(triple, new if keep else None, reviewer, at)
    return correction

