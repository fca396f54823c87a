"""How kgbuild writes to Neo4j: the statements, the transaction wrappers, and the edge-batch algorithm.

An edge batch holds edges of every relationship type, sorted by (head, tail, type) key, so a
batch is one set of statements whatever the number of types. It locks its entities in key order
(adding a label a node already has takes the node's write lock and changes nothing), finds which
of its edges and evidence records exist, CREATEs the missing edges, adds the missing records and
folds them into the existing edges' properties (:mod:`kgbuild.graph.evidence_records`). A rerun
writes nothing, and concurrent kgbuild writers serialise on shared entities instead of duplicating
an edge. Relationship types travel as parameters (``$(row.type)``, Neo4j 5.26+: a dynamic type in
MERGE or MATCH is planned far slower, hence find-then-CREATE); older 5.x servers get one CREATE per
type, the type checked against an identifier pattern before it is placed in the text. Measurements: docs/PERFORMANCE.md.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any, TypeVar

from kgbuild.graph.base import AliasUpdate, EdgeItems, PreparedWrite
from kgbuild.graph.evidence_records import (
    CREATE_RECORDS,
    DELETE_DOCUMENT_RECORDS,
    DOCUMENT_FACTS,
    EDGE_COLUMNS,
    FIND_RECORDS,
    MERGE_RECORDS,
    SUPPORT_OF_HEADS,
    FactId,
    edge_updates,
    plan_merge,
    record_rows,
    records_by_fact,
    stored_record_rows,
    supports_by_fact,
)
from kgbuild.graph.lexical import (
    DELETE_DOCUMENT_SENTENCES,
    DELETE_MENTIONS_OF,
    LINK_SENTENCES,
    MERGE_MENTIONS,
    MERGE_SENTENCES,
)
from kgbuild.graph.neo4j_values import StatementProfile, WriteCounters
from kgbuild.graph.queries import (
    DELETE_DOCUMENT_ALIASES,
    MERGE_ALIASES,
    SET_EDGE_PROPERTIES,
    SET_ENTITY_ALIASES,
)
from kgbuild.graph.store import StoreError

# Constraints and indexes, created once per database (never by a read-only store), then what an import lacks.
SCHEMA_STATEMENTS = (
    "CREATE CONSTRAINT kgbuild_entity_key IF NOT EXISTS FOR (e:Entity) REQUIRE e.key IS UNIQUE",
    "CREATE CONSTRAINT kgbuild_document_id IF NOT EXISTS FOR (d:Document) REQUIRE d.id IS UNIQUE",
    "CREATE CONSTRAINT kgbuild_alias_id IF NOT EXISTS FOR (a:Alias) REQUIRE a.id IS UNIQUE",
    "CREATE INDEX kgbuild_alias_doc IF NOT EXISTS FOR (a:Alias) ON (a.doc_id)",
    # TEXT indexes: names and paths are user text of any length; RANGE indexes reject values over ~8 kB.
    "CREATE TEXT INDEX kgbuild_document_path IF NOT EXISTS FOR (d:Document) ON (d.path)",
    "CREATE TEXT INDEX kgbuild_entity_name IF NOT EXISTS FOR (e:Entity) ON (e.name)",
    "CREATE INDEX kgbuild_entity_type IF NOT EXISTS FOR (e:Entity) ON (e.type)",
    "CREATE CONSTRAINT kgbuild_sentence_id IF NOT EXISTS FOR (s:Sentence) REQUIRE s.id IS UNIQUE",
    "CREATE INDEX kgbuild_sentence_doc IF NOT EXISTS FOR (s:Sentence) ON (s.doc_id)",
    "CREATE CONSTRAINT kgbuild_evidence_id IF NOT EXISTS FOR (v:Evidence) REQUIRE v.id IS UNIQUE",
    "CREATE INDEX kgbuild_evidence_doc IF NOT EXISTS FOR (v:Evidence) ON (v.doc_id)",
    "CREATE INDEX kgbuild_evidence_head IF NOT EXISTS FOR (v:Evidence) ON (v.head_key)",
    "CREATE INDEX kgbuild_evidence_tail IF NOT EXISTS FOR (v:Evidence) ON (v.tail_key)",
    # neo4j-admin import leaves an empty array out (graph/neo4j_import.py); the writer stores []
    "MATCH (e:Entity) WHERE e.aliases IS NULL SET e.aliases = []",
)


MOVE_BATCH = 10_000  # edges per transaction when a graph of an earlier version has its evidence moved
EVIDENCE_KEY_EXISTS = "CALL db.propertyKeys() YIELD propertyKey WHERE propertyKey = 'evidence' RETURN 1 AS n"
EDGE_EVIDENCE_EXISTS = "MATCH ()-[r]->() WHERE r.evidence IS NOT NULL RETURN 1 AS n LIMIT 1"
EARLIER_GRAPH = ("this Neo4j graph was written by an earlier kgbuild; open it for writing once "
                 "(`kgbuild ingest --store neo4j`) to move its evidence into records")
_IDENTIFIER = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_T = TypeVar("_T")
DYNAMIC_TYPES_SINCE = (5, 26)  # CREATE (h)-[:$(expr)]->(t)

# Adding a label a node already has takes its write lock and changes nothing (no counter moves).
LOCK_ENTITIES = "UNWIND $keys AS key MATCH (e:Entity {key: key}) SET e:Entity"
# Untyped expand + type filter: a dynamic type in a MATCH pattern is planned ~7x slower on 5.26.
FIND_EDGES = (
    "UNWIND $rows AS row MATCH (h:Entity {key: row.h})-[r]->(t:Entity {key: row.t}) WHERE type(r) = row.type "
    "RETURN row.h AS h, row.type AS type, row.t AS t, "
    + ", ".join(f"r.{column} AS {column}" for column in EDGE_COLUMNS)
)
# Properties inline, not ``SET r = row.props``: a whole-map SET makes the planner add an Eager barrier.
CREATE_EDGES = (
    "UNWIND $rows AS row MATCH (h:Entity {key: row.h}), (t:Entity {key: row.t}) "
    "CREATE (h)-[r:$(row.type) {confidence: row.confidence, model: row.model, support: row.support, "
    "reviewed: row.reviewed, doc_ids: row.doc_ids, sentence_ids: row.sentence_ids}]->(t)"
)
UPDATE_EDGES = (
    "UNWIND $rows AS row MATCH (h:Entity {key: row.h})-[r]->(t:Entity {key: row.t}) WHERE type(r) = row.type "
    + SET_EDGE_PROPERTIES
)


def plain_rel_type(rel_type: str) -> str:
    """The only text ever placed in a statement: a schema-derived identifier, checked again here."""
    if not _IDENTIFIER.match(rel_type):
        raise StoreError(f"refusing relationship type {rel_type!r}: not a plain identifier")
    return rel_type


def batches(items: list[_T], size: int) -> Iterator[list[_T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def server_version_tuple(text: str) -> tuple[int, int]:
    numbers = [int(n) for n in re.findall(r"\d+", text)[:2]]
    return (numbers + [0, 0])[0], (numbers + [0, 0])[1]


def sorted_edges(prepared: PreparedWrite) -> EdgeItems:
    """Every type's edges in one list, ordered by (head, tail, type) key: neighbouring rows share nodes,
    and every writer takes its locks in the same order."""
    items = [item for group in prepared.edges_by_type.values() for item in group]
    return sorted(items, key=lambda item: (item[0].head_key, item[0].tail_key, item[0].rel_type))


class CountingTransaction:
    """One attempt of a managed transaction; tallies counters so only committed attempts are counted."""

    def __init__(self, tx: Any) -> None:
        self.tx = tx
        self.counters = WriteCounters()

    def run(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        result = self.tx.run(cypher, params)
        rows: list[dict[str, Any]] = result.data()
        self.counters.add(result.consume().counters)
        return rows


class ProfilingTransaction(CountingTransaction):
    """Runs every statement under PROFILE and keeps the plans; used inside a transaction that is rolled back."""

    def __init__(self, tx: Any) -> None:
        super().__init__(tx)
        self.profiles: list[StatementProfile] = []

    def run(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        began = time.perf_counter()
        result = self.tx.run("PROFILE " + cypher, params)
        rows: list[dict[str, Any]] = result.data()
        summary = result.consume()
        self.profiles.append(StatementProfile.from_summary(cypher, summary, time.perf_counter() - began))
        return rows


def merge_edge_batch(tx: CountingTransaction, items: EdgeItems, dynamic_types: bool) -> None:
    """Lock the batch's entities, then write the evidence records not stored yet, CREATE the edges that do not
    exist and fold the new records into the edges that do: nothing already stored is read back or rewritten,
    and a rerun writes nothing. The records are CREATEd, not MERGEd (9,416 against 6,775 relationships/s in
    ``bench.neo4j_load``): they were looked up under the entities' locks, which every writer of them holds."""
    for rel_type in {k.rel_type for k, _ in items}:
        plain_rel_type(rel_type)  # a parameter here, yet still refused unless a plain identifier
    tx.run(LOCK_ENTITIES, keys=sorted({key for k, _ in items for key in (k.head_key, k.tail_key)}))
    records = {(k.head_key, k.rel_type, k.tail_key): record_rows((k.head_key, k.rel_type, k.tail_key), evidence)
               for k, evidence in items}
    found = {row["id"] for row in tx.run(FIND_RECORDS, ids=[r["id"] for rows in records.values() for r in rows])}
    stored = {(row["h"], row["type"], row["t"]): row
              for row in tx.run(FIND_EDGES, rows=[{"h": h, "type": r, "t": t} for h, r, t in records])}
    plan = plan_merge(records, found, stored)
    if plan.created:
        create_edges(tx, plan.created, dynamic_types)
    if plan.grown:
        tx.run(UPDATE_EDGES, rows=plan.grown)
    if plan.records:
        tx.run(CREATE_RECORDS, rows=plan.records)


def create_edges(tx: CountingTransaction, rows: list[dict[str, Any]], dynamic_types: bool) -> None:
    if dynamic_types:
        tx.run(CREATE_EDGES, rows=rows)
        return
    by_type: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_type.setdefault(row["type"], []).append(row)
    for rel_type, typed in by_type.items():
        tx.run(CREATE_EDGES.replace("$(row.type)", plain_rel_type(rel_type)), rows=typed)


def take_edges_touching(tx: CountingTransaction, keys: list[str]
                        ) -> tuple[list[tuple[Any, ...]], dict[FactId, list[str]]]:
    """Delete every edge with an end in ``keys``, their evidence records and mentions; return the edges as (head
    key, head name, head type, type, tail key, tail name, tail type) rows and their records, to be written again
    under a changed alias table. Heads, then tails: each pass starts from an index seek on the entity key (an OR
    of both would scan every node)."""
    tx.run(DELETE_MENTIONS_OF, keys=keys)
    rows: list[dict[str, Any]] = []
    records: list[tuple[Any, ...]] = []
    for side in ("h.key IN $keys", "t.key IN $keys"):
        pattern = f"MATCH (h:Entity)-[r]->(t:Entity) WHERE {side} "
        rows += tx.run(pattern + "RETURN h.key AS hk, h.name AS hn, h.type AS ht, type(r) AS rel, t.key AS tk, "
                       "t.name AS tn, t.type AS tt", keys=keys)
        tx.run(pattern + "DELETE r", keys=keys)
        match = f"MATCH (v:Evidence) WHERE v.{'head' if side[0] == 'h' else 'tail'}_key IN $keys "
        records += [tuple(row.values()) for row in tx.run(
            match + "RETURN v.head_key AS h, v.rel_type AS type, v.tail_key AS t, v.record AS record", keys=keys)]
        tx.run(match + "DELETE v", keys=keys)
    return ([(r["hk"], r["hn"], r["ht"], r["rel"], r["tk"], r["tn"], r["tt"]) for r in rows],
            records_by_fact(records))


def write_document_aliases(tx: CountingTransaction, update: AliasUpdate) -> None:
    """A document's alias decisions replace its earlier ones, and the ``aliases`` of existing entities they
    change are rewritten (entities the document's triples create get theirs as they are merged)."""
    for doc_id in update.replaced_documents:
        tx.run(DELETE_DOCUMENT_ALIASES, id=doc_id)
    if update.records:
        tx.run(MERGE_ALIASES, rows=[r.to_row() for r in update.records])
    if update.entity_aliases:
        tx.run(SET_ENTITY_ALIASES, rows=update.entity_aliases)


def remove_document_tx(tx: CountingTransaction, doc_id: str) -> None:
    """Inside ``tx``: the document's evidence records go, the edges they supported are recomputed from what
    remains (an edge left with none goes), then its sentences and node."""
    facts: set[FactId] = {(r["head_key"], r["rel_type"], r["tail_key"]) for r in tx.run(DOCUMENT_FACTS, id=doc_id)}
    if facts:  # the entities' locks first, as an edge batch takes them: its edges' summaries stay consistent
        tx.run(LOCK_ENTITIES, keys=sorted({key for h, _, t in facts for key in (h, t)}))
        tx.run(DELETE_DOCUMENT_RECORDS, id=doc_id)
        rows = tx.run(SUPPORT_OF_HEADS, heads=sorted({h for h, _, _ in facts}))
        updates, deletions = edge_updates(facts, supports_by_fact((tuple(r.values()) for r in rows), facts))
        if deletions:
            tx.run("UNWIND $rows AS row MATCH (h:Entity {key: row.h})-[r]->(t:Entity {key: row.t}) "
                   "WHERE type(r) = row.type DELETE r", rows=deletions)
        if updates:
            tx.run(UPDATE_EDGES, rows=updates)
    tx.run(DELETE_DOCUMENT_SENTENCES, id=doc_id)
    tx.run("MATCH (d:Document {id: $id}) DETACH DELETE d", id=doc_id)


def move_edge_evidence(tx: CountingTransaction, limit: int) -> int:
    """Graphs written before evidence records kept each edge's evidence as a JSON list on the edge: move up to
    ``limit`` edges' lists into records (the edge's properties are already their aggregate). Returns how many
    edges were moved; run until 0."""
    rows = tx.run("MATCH (h:Entity)-[r]->(t:Entity) WHERE r.evidence IS NOT NULL "
                  "WITH h, r, t, r.evidence AS evidence LIMIT $limit REMOVE r.evidence "
                  "RETURN h.key AS h, type(r) AS type, t.key AS t, evidence", limit=limit)
    records = [record for row in rows
               for record in stored_record_rows((row["h"], row["type"], row["t"]), row["evidence"] or [])]
    if records:
        tx.run(MERGE_RECORDS, rows=records)
    return len(rows)


def merge_lexical(tx: CountingTransaction, sentences: list[dict[str, Any]], mentions: list[dict[str, Any]]) -> None:
    """Sentence and mention rows (:func:`kgbuild.graph.lexical.lexical_rows`), after their entities."""
    if sentences:
        tx.run(MERGE_SENTENCES, rows=sentences)
        tx.run(LINK_SENTENCES, rows=sentences)
    if mentions:
        tx.run(MERGE_MENTIONS, rows=mentions)
