"""The embedded default store: LadybugDB (a Kùzu fork), queried with Cypher, no server.

Ladybug needs declared tables, so each schema label becomes a ``REL TABLE`` from Entity to
Entity. Writes follow the safe pattern: nodes first (looked up by key, the missing ones created:
:mod:`kgbuild.graph.ladybug_nodes`), then MATCH both ends and MERGE the edge; chained
``MERGE (h)…MERGE (t)…MERGE (h)-[]->(t)`` silently misattaches edges in Kùzu.
Every document write is one transaction, so a crash never leaves half a document. Relationship
table names are pasted into statements only as backtick-quoted identifiers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from kgbuild.graph import queries as aliases_cypher  # the alias statements, shared with Neo4j
from kgbuild.graph.base import AliasUpdate, BaseGraphStore, Change, EdgeItems, PreparedWrite
from kgbuild.graph.evidence_records import (
    ALL_RECORDS,
    DELETE_RECORDS_TOUCHING,
    EVIDENCE,
    RECORDS_TOUCHING,
    records_by_fact,
)
from kgbuild.graph.isolated_query import QueryRequest, run_isolated
from kgbuild.graph.ladybug_columns import all_rows, column_title, plain_value
from kgbuild.graph.ladybug_connection import ConnectionAge, LadybugTransaction
from kgbuild.graph.ladybug_evidence import (
    edge_evidence_tables,
    merge_evidence,
    move_edge_evidence,
    remove_document_evidence,
)
from kgbuild.graph.ladybug_nodes import ALIASES, DOCUMENTS, ENTITIES, SENTENCES, NodeTable, upsert_nodes
from kgbuild.graph.ladybug_tables import quoted, table_statements
from kgbuild.graph.lexical import (
    DELETE_DOCUMENT_SENTENCES,
    DELETE_MENTIONS_OF,
    LEXICAL_RELATIONSHIPS,
    LINK_SENTENCES,
    MERGE_MENTIONS,
    SENTENCE,
    lexical_rows,
)
from kgbuild.graph.queries import NODE_LABELS, document_params
from kgbuild.graph.read_plans import execute_read_only
from kgbuild.graph.store import (
    DocumentRecord,
    GraphStats,
    QueryResult,
    QueryTimeoutError,
    StoreError,
)
from kgbuild.schema import RelationSchema, relationship_type
from kgbuild.types import Alias, Triple

# Each document's transaction rewrites the edges it touches. Until a checkpoint, the old versions pin pages
# that the buffer pool cannot evict, so with the database's default threshold (16 MB of write-ahead log)
# memory grew with the corpus: 0.86 GB at 50 documents, 1.78 GB at 800 (measured when each edge held its
# evidence as one list). Checkpointing at 1 MB keeps it flat (0.83 → 0.91 GB) and was no slower (docs/PERFORMANCE.md).
CHECKPOINT_BYTES = 1024 * 1024


class EmbeddedStore(BaseGraphStore):
    name = "embedded"
    TYPE_FUNCTION = "label"

    def __init__(self, path: str | Path, read_only: bool = False, buffer_pool_mb: int = 512,
                 isolated: bool = True) -> None:
        """``isolated``: read-only, user queries run in a child process (:mod:`kgbuild.graph.isolated_query`)."""
        import ladybug

        super().__init__(read_only)
        self.path = Path(path)
        self.buffer_pool_mb = buffer_pool_mb
        self.isolated = isolated
        self._age = ConnectionAge()
        if read_only and not self.path.exists():
            raise StoreError(f"no graph at {self.path}; run `kgbuild ingest` first or pass --store-path")
        if not read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = ladybug.Database(str(self.path), read_only=read_only,
                                        buffer_pool_size=buffer_pool_mb * 1024 * 1024,
                                        checkpoint_threshold=CHECKPOINT_BYTES)
            self._conn = ladybug.Connection(self._db)
        except RuntimeError as exc:
            raise StoreError(f"cannot open embedded graph at {self.path}: {exc}") from exc

    # -- schema -------------------------------------------------------------------------
    def ensure_schema(self, schema: RelationSchema) -> None:
        if self.read_only and edge_evidence_tables(self._rows, self._rel_tables()):
            raise StoreError(f"the graph at {self.path} was written by an earlier kgbuild; open it for writing "
                             "once (`kgbuild ingest`) to move its evidence into records")
        super().ensure_schema(schema)

    def _create_schema(self, schema: RelationSchema) -> None:
        for statement in table_statements(schema.relationship_types.values()):
            self._run(statement)
        for rel_type in edge_evidence_tables(self._rows, self._rel_tables()):  # a graph of an earlier version
            with self._transaction():
                move_edge_evidence(self._run, self._rows, rel_type)
            self._run(f"ALTER TABLE {quoted(rel_type)} DROP evidence")

    def _rel_tables(self) -> list[str]:
        rows = self._rows("CALL show_tables() RETURN name, type")
        return sorted(name for name, kind in rows if kind == "REL" and name not in LEXICAL_RELATIONSHIPS)

    def _tables(self) -> set[str]:
        return {name for name, _ in self._rows("CALL show_tables() RETURN name, type")}

    # -- reads --------------------------------------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        if "Document" not in self._tables():
            return {}
        rows = self._rows("MATCH (d:Document) RETURN d.id, d.path, d.hash")
        return {path: DocumentRecord(id=id_, path=path, hash=hash_) for id_, path, hash_ in rows}

    def _read_aliases(self) -> list[Alias]:
        if "Alias" not in self._tables():
            return []
        columns = ("spelling", "type", "canonical", "reason", "score", "doc_id", "undone")
        return [Alias.from_row(dict(zip(columns, row, strict=True))) for row in self._rows(aliases_cypher.READ_ALIASES)]

    def stats(self) -> GraphStats:
        stats = GraphStats()
        tables = self._tables()
        for label in NODE_LABELS:
            count = int(self._rows(f"MATCH (n:{label}) RETURN count(n)")[0][0]) if label in tables else 0
            if count:
                stats.nodes[label] = count
        for rel_type in self._rel_tables():
            count = int(self._rows(f"MATCH ()-[r:{quoted(rel_type)}]->() RETURN count(r)")[0][0])
            if count:
                stats.relationships[rel_type] = count
        for table in (SENTENCE, *LEXICAL_RELATIONSHIPS) if SENTENCE in tables else ():
            if count := int(self._rows(f"MATCH {'(n:Sentence)' if table == SENTENCE else f'()-[n:{table}]->()'} "
                                       "RETURN count(n)")[0][0]):
                stats.lexical[table] = count
        return stats

    def iter_triples(self) -> Iterator[Triple]:
        if EVIDENCE not in self._tables():
            return
        records = records_by_fact(self._rows(ALL_RECORDS))
        for rel_type in self._rel_tables():
            rows = self._rows(f"MATCH (h:Entity)-[r:{quoted(rel_type)}]->(t:Entity) {_EDGE_ENDS}")
            yield from self._triples_from_rows(_typed(rows, rel_type), records)

    def _run_query(self, cypher: str, params: dict[str, Any], write: bool, timeout: float | None) -> QueryResult:
        """A store opened ``read_only`` refuses writes natively; without ``write`` only a statement that
        LadybugDB itself reads as one read runs (:func:`read_plans.execute_read_only`)."""
        if self.read_only and self.isolated and not write:
            return run_isolated(QueryRequest(str(self.path), self.buffer_pool_mb, cypher, params, timeout))
        try:
            self._conn.set_query_timeout(round(timeout * 1000) if timeout else 0)
            result = self._conn.execute(cypher, params) if write else execute_read_only(self._conn, cypher, params)
        except StoreError:
            raise
        except RuntimeError as exc:
            raise (QueryTimeoutError(timeout) if "interrupted" in str(exc).lower()
                   else StoreError(f"query failed: {exc}")) from exc
        result = result[-1] if isinstance(result, list) else result
        rows = [[plain_value(v) for v in row] for row in all_rows(result)]
        return QueryResult([column_title(name) for name in result.get_column_names()], rows)

    # -- writes -------------------------------------------------------------------------
    def replace_document(
        self, document: DocumentRecord, triples: Sequence[Triple], previous: DocumentRecord | None = None,
        aliases: Sequence[Alias] | None = None,
    ) -> None:
        self._require_schema()
        with self._restoring_aliases():
            update = self._document_aliases(self._replaced_documents(document, previous, aliases), aliases or ())
            prepared = self.prepare(triples)
            with self._transaction():
                if previous is not None:
                    self._remove_document(previous.id)
                self._upsert(DOCUMENTS, [document_params(document)])
                self._write_aliases(update)
                self._merge(prepared)

    def write_triples(self, triples: Sequence[Triple]) -> None:
        self._require_schema()
        with self._transaction():
            self._merge(self.prepare(triples))

    def remove_document(self, doc_id: str) -> None:
        self._require_schema()
        with self._restoring_aliases():
            update = self._document_aliases([doc_id], ())
            with self._transaction():
                self._remove_document(doc_id)
                self._write_aliases(update)

    def _write_aliases(self, update: AliasUpdate) -> None:
        """The document's decisions, and the ``aliases`` of existing entities they change (entities the
        document's triples create get theirs as they are merged)."""
        for doc_id in update.replaced_documents:
            self._run(aliases_cypher.DELETE_DOCUMENT_ALIASES, {"id": doc_id})
        self._upsert(ALIASES, [r.to_row() for r in update.records])
        self._run_rows(aliases_cypher.SET_ENTITY_ALIASES, update.entity_aliases)

    def _relink(self, records: list[Alias], keys: set[str], change: Change | None = None) -> None:
        params = {"keys": sorted(keys)}
        with self._transaction():
            edges: list[tuple[Any, ...]] = []
            self._run(DELETE_MENTIONS_OF, params)
            for rel_type in self._rel_tables():
                pattern = f"MATCH (h:Entity)-[r:{quoted(rel_type)}]->(t:Entity) {aliases_cypher.TOUCHING}"
                edges += _typed(self._rows(pattern + _EDGE_ENDS, params), rel_type)
                self._run(pattern + "DELETE r", params)
            stored = list(self._triples_from_rows(edges, records_by_fact(self._rows(RECORDS_TOUCHING, params))))
            self._run(DELETE_RECORDS_TOUCHING, params)
            self._upsert(ALIASES, [r.to_row() for r in records])
            prepared, orphans = self._rebuild_plan(stored, keys, change)
            if orphans:
                self._run(aliases_cypher.DELETE_ENTITIES, {"keys": orphans})
            self._merge(prepared)
            self._run_rows(aliases_cypher.SET_ENTITY_ALIASES, self._alias_rows(keys.difference(orphans)))

    def _remove_document(self, doc_id: str) -> None:
        remove_document_evidence(self._run, self._rows, doc_id)
        self._run(DELETE_DOCUMENT_SENTENCES, {"id": doc_id})
        self._run("MATCH (d:Document {id: $id}) DELETE d", {"id": doc_id})

    def _merge(self, prepared: PreparedWrite) -> None:
        self._upsert(ENTITIES, prepared.entity_rows)
        for rel_type, items in prepared.edges_by_type.items():
            self._merge_edges(rel_type, items)
        sentences, mentions = lexical_rows(item for items in prepared.edges_by_type.values() for item in items)
        self._upsert(SENTENCES, sentences)
        self._run_rows(LINK_SENTENCES, sentences)
        self._run_rows(MERGE_MENTIONS, mentions)
        self._age.wrote(len(prepared.entity_rows) + len(sentences) + len(mentions)
                        + sum(len(items) for items in prepared.edges_by_type.values()))

    def _merge_edges(self, rel_type: str, items: EdgeItems) -> None:
        merge_evidence(self._run, self._rows, rel_type,
                       (((key.head_key, rel_type, key.tail_key), evidence) for key, evidence in items))

    # -- plumbing -----------------------------------------------------------------------
    def _transaction(self) -> LadybugTransaction:
        if self.read_only:
            raise StoreError("the graph was opened read-only")
        return LadybugTransaction(self)

    def _renew_connection_if_grown(self) -> None:
        """A new connection once the graph outgrew the old one's plans (:mod:`kgbuild.graph.ladybug_connection`)."""
        if not self._age.outgrown():
            return
        import ladybug

        fresh = ladybug.Connection(self._db)  # opened first: a failure leaves the old one in place
        self._conn.close()
        self._conn = fresh
        self._age.renewed()

    def _run(self, cypher: str, params: dict[str, Any] | None = None) -> Any:
        try:
            return self._conn.execute(cypher, params or {})
        except RuntimeError as exc:
            raise StoreError(f"embedded store error: {exc}") from exc

    def _run_rows(self, cypher: str, rows: list[dict[str, Any]]) -> None:
        """``UNWIND $rows`` statements, skipped when there is nothing to unwind (an empty list has no type)."""
        if rows:
            self._run(cypher, {"rows": rows})

    def _upsert(self, table: NodeTable, rows: list[dict[str, Any]]) -> None:
        upsert_nodes(self._run, self._rows, table, rows)

    def _rows(self, cypher: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        return all_rows(self._run(cypher, params))

    def close(self) -> None:
        self._conn.close()
        self._db.close()


_EDGE_ENDS = "RETURN h.key, h.name, h.type, t.key, t.name, t.type"


def _typed(rows: list[list[Any]], rel_type: str) -> list[tuple[Any, ...]]:
    """Rows of :data:`_EDGE_ENDS` with the table's relationship type in the middle, as the base class reads them."""
    return [(hk, hn, ht, rel_type, tk, tn, tt) for hk, hn, ht, tk, tn, tt in rows]


__all__ = ["EmbeddedStore", "relationship_type"]
