"""The embedded default store: LadybugDB (a Kùzu fork), queried with Cypher, no server.

Ladybug needs declared tables, so each schema label becomes a ``REL TABLE`` from Entity to
Entity. Writes follow the safe pattern: MERGE nodes first, then MATCH both ends and MERGE the
edge; chained ``MERGE (h)…MERGE (t)…MERGE (h)-[]->(t)`` silently misattaches edges in Kùzu.
Every document write is one transaction, so a crash never leaves half a document.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kgbuild.graph.store import (
    MERGE_ENTITIES,
    SET_EDGE_PROPERTIES,
    DocumentRecord,
    EdgeKey,
    GraphStats,
    QueryResult,
    ReadOnlyQueryError,
    StoreError,
    edge_properties,
    group_triples,
    without_document,
    write_clause_in,
)
from kgbuild.relations.schema import RelationSchema, relationship_type
from kgbuild.types import Entity, Evidence, Triple

log = logging.getLogger(__name__)

_NODE_TABLES = (
    "CREATE NODE TABLE IF NOT EXISTS Document(id STRING PRIMARY KEY, path STRING, hash STRING)",
    "CREATE NODE TABLE IF NOT EXISTS Entity(key STRING PRIMARY KEY, name STRING, type STRING)",
)
_REL_COLUMNS = "confidence DOUBLE, model STRING, support INT64, doc_ids STRING[], evidence STRING[]"


class EmbeddedStore:
    name = "embedded"

    def __init__(self, path: str | Path, read_only: bool = False) -> None:
        import ladybug

        self.path = Path(path)
        self.read_only = read_only
        if read_only and not self.path.exists():
            raise StoreError(f"no graph at {self.path}; run `kgbuild ingest` first or pass --store-path")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = ladybug.Database(str(self.path), read_only=read_only)
            self._conn = ladybug.Connection(self._db)
        except RuntimeError as exc:
            raise StoreError(f"cannot open embedded graph at {self.path}: {exc}") from exc
        self._schema: RelationSchema | None = None

    # -- schema -------------------------------------------------------------------------
    def ensure_schema(self, schema: RelationSchema) -> None:
        self._schema = schema
        if self.read_only:
            return
        for statement in _NODE_TABLES:
            self._run(statement)
        for rel_type in schema.relationship_types.values():
            # rel_type is a sanitised identifier from the schema, never document text.
            self._run(f"CREATE REL TABLE IF NOT EXISTS {rel_type}(FROM Entity TO Entity, {_REL_COLUMNS})")

    def _rel_tables(self) -> list[str]:
        rows = self._rows("CALL show_tables() RETURN name, type")
        return sorted(name for name, kind in rows if kind == "REL")

    def _require_schema(self) -> RelationSchema:
        if self._schema is None:
            raise StoreError("ensure_schema() must run before writing")
        return self._schema

    # -- reads --------------------------------------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        if "Document" not in self._tables():
            return {}
        rows = self._rows("MATCH (d:Document) RETURN d.id, d.path, d.hash")
        return {path: DocumentRecord(id=id_, path=path, hash=hash_) for id_, path, hash_ in rows}

    def _tables(self) -> set[str]:
        return {name for name, _ in self._rows("CALL show_tables() RETURN name, type")}

    def stats(self) -> GraphStats:
        stats = GraphStats()
        tables = self._tables()
        for label in ("Document", "Entity"):
            if label in tables:
                stats.nodes[label] = int(self._rows(f"MATCH (n:{label}) RETURN count(n)")[0][0])
        for rel_type in self._rel_tables():
            count = int(self._rows(f"MATCH ()-[r:{rel_type}]->() RETURN count(r)")[0][0])
            if count:
                stats.relationships[rel_type] = count
        return stats

    def iter_triples(self) -> Iterator[Triple]:
        labels = {v: k for k, v in self._schema.relationship_types.items()} if self._schema else {}
        for rel_type in self._rel_tables():
            rows = self._rows(
                f"MATCH (h:Entity)-[r:{rel_type}]->(t:Entity) RETURN h.name, h.type, t.name, t.type, r.evidence"
            )
            for h_name, h_type, t_name, t_type, evidence in rows:
                for item in evidence:
                    yield Triple(Entity(h_name, h_type), labels.get(rel_type, rel_type),
                                 Entity(t_name, t_type), Evidence.from_json(item))

    def query(self, cypher: str, params: dict[str, Any] | None = None, write: bool = False) -> QueryResult:
        if not write:
            clause = write_clause_in(cypher)
            if clause:
                raise ReadOnlyQueryError(
                    f"query contains the write clause {clause}; `kgbuild query` is read-only unless --write is given"
                )
        try:
            result = self._conn.execute(cypher, params or {})
        except RuntimeError as exc:
            raise StoreError(f"query failed: {exc}") from exc
        result = result[-1] if isinstance(result, list) else result
        columns = list(result.get_column_names())
        rows = []
        while result.has_next():
            rows.append([_plain(v) for v in result.get_next()])
        return QueryResult(columns, rows)

    # -- writes -------------------------------------------------------------------------
    def replace_document(
        self, document: DocumentRecord, triples: Sequence[Triple], previous: DocumentRecord | None = None
    ) -> None:
        schema = self._require_schema()
        with self._transaction():
            if previous is not None:
                self._remove_document(previous.id)
            self._run(
                "MERGE (d:Document {id: $id}) SET d.path = $path, d.hash = $hash",
                {"id": document.id, "path": document.path, "hash": document.hash},
            )
            self._merge(triples, schema)

    def write_triples(self, triples: Sequence[Triple]) -> None:
        schema = self._require_schema()
        with self._transaction():
            self._merge(triples, schema)

    def remove_document(self, doc_id: str) -> None:
        self._require_schema()
        with self._transaction():
            self._remove_document(doc_id)

    def _remove_document(self, doc_id: str) -> None:
        for rel_type in self._rel_tables():
            rows = self._rows(
                f"MATCH (h:Entity)-[r:{rel_type}]->(t:Entity) WHERE list_contains(r.doc_ids, $id) "
                "RETURN h.key, t.key, r.evidence",
                {"id": doc_id},
            )
            updates, deletions = without_document((({"h": h, "t": t}, ev) for h, t, ev in rows), doc_id)
            if deletions:
                self._run(
                    f"UNWIND $rows AS row MATCH (h:Entity {{key: row.h}})-[r:{rel_type}]->(t:Entity {{key: row.t}}) "
                    "DELETE r",
                    {"rows": deletions},
                )
            if updates:
                self._set_edges(rel_type, updates)
        self._run("MATCH (d:Document {id: $id}) DELETE d", {"id": doc_id})

    def _merge(self, triples: Sequence[Triple], schema: RelationSchema) -> None:
        entities, edges = group_triples(triples, schema)
        if entities:
            self._run(MERGE_ENTITIES,
                      {"rows": [{"key": k, "name": e.name, "type": e.type} for k, e in entities.items()]})
        by_type: dict[str, list[tuple[EdgeKey, list[Evidence]]]] = {}
        for key, evidence in edges.items():
            by_type.setdefault(key.rel_type, []).append((key, evidence))
        for rel_type, items in by_type.items():
            existing = self._existing_evidence(rel_type, [k for k, _ in items])
            rows = []
            for key, evidence in items:
                merged = set(evidence) | existing.get((key.head_key, key.tail_key), set())
                rows.append({"h": key.head_key, "t": key.tail_key, **edge_properties(merged)})
            self._set_edges(rel_type, rows)

    def _existing_evidence(self, rel_type: str, keys: list[EdgeKey]) -> dict[tuple[str, str], set[Evidence]]:
        rows = self._rows(
            f"UNWIND $rows AS row MATCH (h:Entity {{key: row.h}})-[r:{rel_type}]->(t:Entity {{key: row.t}}) "
            "RETURN h.key, t.key, r.evidence",
            {"rows": [{"h": k.head_key, "t": k.tail_key} for k in keys]},
        )
        return {(h, t): {Evidence.from_json(e) for e in evidence} for h, t, evidence in rows}

    def _set_edges(self, rel_type: str, rows: list[dict[str, Any]]) -> None:
        self._run(
            f"UNWIND $rows AS row MATCH (h:Entity {{key: row.h}}), (t:Entity {{key: row.t}}) "
            f"MERGE (h)-[r:{rel_type}]->(t) {SET_EDGE_PROPERTIES}",
            {"rows": rows},
        )

    # -- plumbing -----------------------------------------------------------------------
    class _Tx:
        def __init__(self, store: EmbeddedStore) -> None:
            self.store = store

        def __enter__(self) -> None:
            self.store._run("BEGIN TRANSACTION")

        def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
            self.store._run("ROLLBACK" if exc_type else "COMMIT")

    def _transaction(self) -> EmbeddedStore._Tx:
        if self.read_only:
            raise StoreError("the graph was opened read-only")
        return EmbeddedStore._Tx(self)

    def _run(self, cypher: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return self._conn.execute(cypher, params or {})
        except RuntimeError as exc:
            raise StoreError(f"embedded store error: {exc}") from exc

    def _rows(self, cypher: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        result = self._run(cypher, params)
        rows = []
        while result.has_next():
            rows.append(result.get_next())
        return rows

    def close(self) -> None:
        self._conn.close()
        self._db.close()


def _plain(value: Any) -> Any:
    """Ladybug nodes/relationships → plain dicts without internal ids, for tables and JSON."""
    if isinstance(value, dict):
        if "_LABEL" in value:
            out = {k: _plain(v) for k, v in value.items() if not k.startswith("_")}
            out["_label"] = value["_LABEL"]
            return out
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


__all__ = ["EmbeddedStore", "relationship_type"]
