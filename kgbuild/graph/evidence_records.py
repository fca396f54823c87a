"""Evidence as records of their own: one ``(:Evidence)`` node per supporting sentence of a fact.

* ``(:Evidence {id, head_key, rel_type, tail_key, doc_id, sentence_id, confidence, model, reviewed_by, record})``
  where ``record`` is the canonical JSON of :class:`kgbuild.types.Evidence` and ``id`` a digest of the fact and
  the record, so writing the same evidence twice finds it instead of adding it.

A fact edge keeps only what quick queries need (``confidence``, ``model``, ``support``, ``reviewed``,
``doc_ids``, ``sentence_ids``). When a document adds evidence to an edge, the store writes the new records and
folds their few fields into the edge's properties (:func:`fold`); it never reads or rewrites the records that
are there, so an edge's thousandth sentence costs what its first did (issue 22: a list of JSON on the edge was
rewritten whole by every document, so a corpus paid the square of an edge's support). Removing a document
recomputes the edges it touched from the remaining records' small fields (:func:`aggregate`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kgbuild.errors import KgbuildError
from kgbuild.graph.lexical import sentence_id
from kgbuild.types import Evidence

EVIDENCE = "Evidence"
COLUMNS = ("head_key", "rel_type", "tail_key", "doc_id", "sentence_id", "confidence", "model", "reviewed_by", "record")
SUPPORT_COLUMNS = ("doc_id", "sentence_id", "confidence", "model", "reviewed_by")
EDGE_COLUMNS = ("confidence", "model", "support", "reviewed", "doc_ids", "sentence_ids")
FactId = tuple[str, str, str]  # (head key, relationship type, tail key)


def _returning(variable: str, columns: Sequence[str]) -> str:
    return ", ".join(f"{variable}.{column} AS {column}" for column in columns)


# Both stores: every value a parameter. Ladybug indexes only primary keys, so the reads by entity key scan the
# table once per statement; Neo4j has indexes on them (neo4j_writes.SCHEMA_STATEMENTS).
FIND_RECORDS = "UNWIND $ids AS k MATCH (v:Evidence {id: k}) RETURN v.id AS id"
CREATE_RECORDS = ("UNWIND $rows AS row CREATE (:Evidence {id: row.id, "
                  + ", ".join(f"{c}: row.{c}" for c in COLUMNS) + "})")
MERGE_RECORDS = ("UNWIND $rows AS row MERGE (v:Evidence {id: row.id}) ON CREATE SET "
                 + ", ".join(f"v.{c} = row.{c}" for c in COLUMNS))
DOCUMENT_FACTS = ("MATCH (v:Evidence) WHERE v.doc_id = $id "
                  "RETURN DISTINCT v.head_key AS head_key, v.rel_type AS rel_type, v.tail_key AS tail_key")
DELETE_DOCUMENT_RECORDS = "MATCH (v:Evidence) WHERE v.doc_id = $id DELETE v"
# The records of edges with a head among $heads: callers keep those of the edges they asked about.
SUPPORT_OF_HEADS = ("MATCH (v:Evidence) WHERE v.head_key IN $heads RETURN "
                    + _returning("v", ("head_key", "rel_type", "tail_key", *SUPPORT_COLUMNS)))
RECORDS_OF_HEADS = ("MATCH (v:Evidence) WHERE v.head_key IN $heads "
                    "RETURN v.head_key AS head_key, v.rel_type AS rel_type, v.tail_key AS tail_key, v.record AS record")
RECORDS_TOUCHING = ("MATCH (v:Evidence) WHERE v.head_key IN $keys OR v.tail_key IN $keys "
                    "RETURN v.head_key AS head_key, v.rel_type AS rel_type, v.tail_key AS tail_key, v.record AS record")
DELETE_RECORDS_TOUCHING = "MATCH (v:Evidence) WHERE v.head_key IN $keys OR v.tail_key IN $keys DELETE v"
ALL_RECORDS = ("MATCH (v:Evidence) "
               "RETURN v.head_key AS head_key, v.rel_type AS rel_type, v.tail_key AS tail_key, v.record AS record")


@dataclass(frozen=True)
class Support:
    """What an edge's properties are computed from: the few fields of one record."""

    doc_id: str
    sentence_id: str
    confidence: float
    model: str
    reviewed_by: str

    @classmethod
    def of(cls, evidence: Evidence) -> Support:
        return cls(evidence.doc_id, sentence_id(evidence), evidence.confidence, evidence.model,
                   evidence.reviewed_by)

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Support:
        """From the values of :data:`SUPPORT_COLUMNS`, in order."""
        doc_id, sentence, confidence, model, reviewed_by = row
        return cls(str(doc_id), str(sentence), float(confidence), str(model), str(reviewed_by or ""))

    @classmethod
    def of_record(cls, row: Mapping[str, Any]) -> Support:
        """From a row of :func:`record_rows`."""
        return cls.from_row([row[column] for column in SUPPORT_COLUMNS])

    @property
    def rank(self) -> tuple[float, tuple[int, ...]]:
        """The best record decides the edge's confidence and model: highest confidence, then the smallest
        model name."""
        return self.confidence, tuple(-ord(c) for c in self.model)


def record_id(fact: FactId, record: str) -> str:
    return hashlib.sha256("\x1f".join((*fact, record)).encode("utf-8")).hexdigest()[:32]


def record_rows(fact: FactId, evidence: Iterable[Evidence]) -> list[dict[str, Any]]:
    """One row per distinct piece of evidence, in the columns of ``(:Evidence)`` (sorted by record)."""
    rows = {item.to_json(): item for item in evidence}
    return [_row(fact, record, Support.of(rows[record])) for record in sorted(rows)]


def _row(fact: FactId, record: str, support: Support) -> dict[str, Any]:
    return {"id": record_id(fact, record), "head_key": fact[0], "rel_type": fact[1], "tail_key": fact[2],
            "doc_id": support.doc_id, "sentence_id": support.sentence_id, "confidence": support.confidence,
            "model": support.model, "reviewed_by": support.reviewed_by, "record": record}


def stored_record_rows(fact: FactId, records: Iterable[str]) -> list[dict[str, Any]]:
    """Rows for records kept as JSON text by an earlier version: a record that no longer reads as evidence (a
    damaged or hand-edited one) is kept as it is, with empty fields, for the review page to show as unreadable."""
    rows = []
    for record in records:
        try:
            rows += record_rows(fact, [Evidence.from_json(record)])
        except KgbuildError:
            rows.append(_row(fact, str(record), Support("", "", 0.0, "", "")))
    return rows


@dataclass(frozen=True)
class MergePlan:
    """What adding evidence writes: edges to create and edges whose properties grew (``h``, ``type``, ``t`` and
    the properties), and the records that are not stored yet. A rerun plans nothing."""

    created: list[dict[str, Any]]
    grown: list[dict[str, Any]]
    records: list[dict[str, Any]]


def plan_merge(records: Mapping[FactId, list[dict[str, Any]]], found: set[str],
               stored: Mapping[FactId, Mapping[str, Any]]) -> MergePlan:
    """``records``: each fact's :func:`record_rows`; ``found``: the ids of those already stored; ``stored``: the
    properties (:data:`EDGE_COLUMNS`) of the facts whose edge exists."""
    created, grown, fresh_records = [], [], []
    for fact, rows in records.items():
        fresh = [row for row in rows if row["id"] not in found]
        ident = {"h": fact[0], "type": fact[1], "t": fact[2]}
        before = stored.get(fact)
        if before is None:
            created.append({**ident, **aggregate(map(Support.of_record, rows))})
        elif fresh:
            grown.append({**ident, **fold(before, map(Support.of_record, fresh))})
        fresh_records += fresh
    return MergePlan(created, grown, fresh_records)


def aggregate(supports: Iterable[Support]) -> dict[str, Any]:
    """An edge's properties from all its records (deterministic, order-free)."""
    items = list(supports)
    if not items:
        raise ValueError("an edge needs at least one piece of evidence")
    best = max(items, key=lambda s: s.rank)
    return {"confidence": best.confidence, "model": best.model, "support": len(items),
            "reviewed": sum(1 for s in items if s.reviewed_by),
            "doc_ids": sorted({s.doc_id for s in items}), "sentence_ids": sorted({s.sentence_id for s in items})}


def fold(stored: Mapping[str, Any], fresh: Iterable[Support]) -> dict[str, Any]:
    """An edge's properties after adding records that it does not hold yet: :func:`aggregate` over the union,
    computed from the stored properties and the new records only."""
    items = list(fresh)
    best = max([Support("", "", float(stored["confidence"]), str(stored["model"]), ""), *items], key=lambda s: s.rank)
    return {"confidence": best.confidence, "model": best.model, "support": int(stored["support"]) + len(items),
            "reviewed": int(stored["reviewed"] or 0) + sum(1 for s in items if s.reviewed_by),
            "doc_ids": sorted({*stored["doc_ids"], *(s.doc_id for s in items)}),
            "sentence_ids": sorted({*(stored["sentence_ids"] or ()), *(s.sentence_id for s in items)})}


def supports_by_fact(rows: Iterable[Sequence[Any]], facts: set[FactId]) -> dict[FactId, list[Support]]:
    """Rows of :data:`SUPPORT_OF_HEADS` (values in its column order) grouped by fact, only those of ``facts``."""
    grouped: dict[FactId, list[Support]] = {fact: [] for fact in facts}
    for head_key, rel_type, tail_key, *support in rows:
        if (fact := (head_key, rel_type, tail_key)) in grouped:
            grouped[fact].append(Support.from_row(support))
    return grouped


def records_by_fact(rows: Iterable[Sequence[Any]]) -> dict[FactId, list[str]]:
    """Rows of the ``RECORDS_*`` reads (head key, type, tail key, record) grouped by fact, each fact's records
    sorted (the order exports use)."""
    grouped: dict[FactId, list[str]] = {}
    for head_key, rel_type, tail_key, record in rows:
        grouped.setdefault((head_key, rel_type, tail_key), []).append(record)
    return {fact: sorted(records) for fact, records in grouped.items()}


def edge_updates(affected: Iterable[FactId], remaining: Mapping[FactId, list[Support]]
                 ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """After records left: the edges to rewrite (``h``, ``type``, ``t`` and their properties) and the edges
    left without any record, to delete."""
    updates, deletions = [], []
    for head_key, rel_type, tail_key in sorted(set(affected)):
        ident = {"h": head_key, "type": rel_type, "t": tail_key}
        supports = remaining.get((head_key, rel_type, tail_key))
        if supports:
            updates.append({**ident, **aggregate(supports)})
        else:
            deletions.append(ident)
    return updates, deletions
