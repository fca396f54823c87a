"""The embedded store's evidence writes (:mod:`kgbuild.graph.evidence_records`): add a document's records and
fold them into their edges, take a document's records out and recompute its edges, and move the evidence lists
of graphs written by earlier versions into records.

Each function runs inside the caller's transaction through its ``run`` and ``rows`` callables; relationship
table names are pasted only backtick-quoted (:func:`kgbuild.graph.ladybug_tables.quoted`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from kgbuild.graph.evidence_records import (
    CREATE_RECORDS,
    DELETE_DOCUMENT_RECORDS,
    DOCUMENT_FACTS,
    EDGE_COLUMNS,
    FIND_RECORDS,
    SUPPORT_OF_HEADS,
    FactId,
    edge_updates,
    plan_merge,
    record_rows,
    stored_record_rows,
    supports_by_fact,
)
from kgbuild.graph.ladybug_tables import quoted
from kgbuild.graph.queries import SET_EDGE_PROPERTIES, match_edges, set_edges
from kgbuild.types import Evidence

Run = Callable[[str, dict[str, Any]], Any]
Rows = Callable[[str, dict[str, Any]], list[list[Any]]]
_PLAIN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_EDGE_VALUES = ", ".join(f"r.{column}" for column in EDGE_COLUMNS)


def merge_evidence(run: Run, rows: Rows, rel_type: str, items: Iterable[tuple[FactId, list[Evidence]]]) -> None:
    """Write the records not stored yet and fold them into their edges (created where missing)."""
    records = {fact: record_rows(fact, evidence) for fact, evidence in items}
    ids = [row["id"] for fact_rows in records.values() for row in fact_rows]
    found = {id_ for (id_,) in rows(FIND_RECORDS, {"ids": ids})} if ids else set()
    ends = [{"h": h, "t": t} for h, _, t in records]
    stored = {(h, rel_type, t): dict(zip(EDGE_COLUMNS, values, strict=True))
              for h, t, *values in rows(match_edges(quoted(rel_type)) + f"RETURN h.key, t.key, {_EDGE_VALUES}",
                                        {"rows": ends})} if ends else {}
    plan = plan_merge(records, found, stored)
    if plan.created:
        run(set_edges(quoted(rel_type)), {"rows": plan.created})
    if plan.grown:
        run(match_edges(quoted(rel_type)) + SET_EDGE_PROPERTIES, {"rows": plan.grown})
    if plan.records:
        run(CREATE_RECORDS, {"rows": plan.records})


def remove_document_evidence(run: Run, rows: Rows, doc_id: str) -> None:
    """Delete the document's records; rewrite the edges they supported from what remains, or delete them."""
    facts: set[FactId] = {(h, r, t) for h, r, t in rows(DOCUMENT_FACTS, {"id": doc_id})}
    if not facts:
        return
    run(DELETE_DOCUMENT_RECORDS, {"id": doc_id})
    remaining = supports_by_fact(rows(SUPPORT_OF_HEADS, {"heads": sorted({h for h, _, _ in facts})}), facts)
    updates, deletions = edge_updates(facts, remaining)
    for rel_type in sorted({row["type"] for row in updates + deletions}):
        rel = quoted(rel_type)
        if gone := [row for row in deletions if row["type"] == rel_type]:
            run(match_edges(rel) + "DELETE r", {"rows": gone})
        if kept := [row for row in updates if row["type"] == rel_type]:
            run(set_edges(rel), {"rows": kept})


def edge_evidence_tables(rows: Rows, rel_types: Iterable[str]) -> list[str]:
    """The relationship tables that still have the ``evidence`` list column of earlier versions."""
    found = []
    for rel_type in rel_types:
        if _PLAIN_NAME.match(rel_type):  # table_info takes a string literal, so only plain names are asked about
            columns = {name for (name,) in rows(f"CALL table_info('{rel_type}') RETURN name", {})}
            if "evidence" in columns:
                found.append(rel_type)
    return found


def move_edge_evidence(run: Run, rows: Rows, rel_type: str) -> int:
    """Graphs written before evidence records kept each edge's evidence as a JSON list on the edge: write them
    as records (the edge's properties are already their aggregate); the caller then drops the column. Safe to
    repeat (records already written are found). Returns the edges moved."""
    rel = quoted(rel_type)
    stored = rows(f"MATCH (h:Entity)-[r:{rel}]->(t:Entity) WHERE size(r.evidence) > 0 RETURN h.key, t.key, r.evidence",
                  {})
    records = [row for h, t, evidence in stored for row in stored_record_rows((h, rel_type, t), evidence or [])]
    if records:
        found = {id_ for (id_,) in rows(FIND_RECORDS, {"ids": [row["id"] for row in records]})}
        if fresh := [row for row in records if row["id"] not in found]:
            run(CREATE_RECORDS, {"rows": fresh})
    return len(stored)
