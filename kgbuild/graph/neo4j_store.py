"""Neo4j store over the official driver: same graph model and evidence as the embedded store.

Writes are ``UNWIND $rows`` batches inside ``execute_write`` managed transactions (retried on
transient errors): nodes first, then edges of every type together, sorted by key (the statements
and the edge-batch algorithm are in :mod:`kgbuild.graph.neo4j_writes`). A document is replaced in
one transaction, so a failure never leaves half a document behind. Entities whose last edge went
away with a replaced document stay: harmless for queries and cheap to keep.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from kgbuild.config import Neo4jConfig
from kgbuild.graph import neo4j_writes as writes
from kgbuild.graph.base import BaseGraphStore, Change, EdgeItems, PreparedWrite
from kgbuild.graph.evidence_records import ALL_RECORDS, records_by_fact
from kgbuild.graph.lexical import LEXICAL_RELATIONSHIPS, SENTENCE, lexical_rows
from kgbuild.graph.neo4j_values import StatementProfile, WriteCounters, check_bolt_uri, one_line, plain, safe_uri
from kgbuild.graph.queries import (
    DELETE_ENTITIES,
    MERGE_ALIASES,
    MERGE_DOCUMENT,
    MERGE_ENTITIES,
    NODE_LABELS,
    READ_ALIASES,
    SET_ENTITY_ALIASES,
    document_params,
)
from kgbuild.graph.read_plans import refuse_unless_read_summary
from kgbuild.graph.store import (
    DocumentRecord,
    GraphStats,
    QueryResult,
    QueryTimeoutError,
    ReadOnlyQueryError,
    StoreError,
)
from kgbuild.schema import RelationSchema
from kgbuild.types import Alias, Triple

log = logging.getLogger(__name__)

MIN_MAJOR_VERSION = 5


class Neo4jStore(BaseGraphStore):
    name = "neo4j"

    def __init__(self, config: Neo4jConfig, read_only: bool = False) -> None:
        import neo4j
        from neo4j.exceptions import AuthError, DriverError, Neo4jError, ServiceUnavailable

        super().__init__(read_only)
        self.config = config
        self.batch_size = config.batch_size
        self.counters = WriteCounters()
        uri = safe_uri(config.uri)
        where = f"{uri} (database {config.database!r})"
        password = config.password.get_secret_value() if config.password is not None else ""
        check_bolt_uri(config.uri)
        driver = None
        try:
            driver = neo4j.GraphDatabase.driver(
                config.uri, auth=(config.user, password), notifications_min_severity="OFF",
                max_transaction_retry_time=config.retry_seconds, connection_timeout=min(30.0, config.retry_seconds + 5),
            )
            driver.verify_connectivity()
            records = driver.execute_query(
                "CALL dbms.components() YIELD name, versions RETURN name, versions",
                database_=config.database, routing_=neo4j.RoutingControl.READ,
            ).records
        except Exception as exc:
            if driver is not None:
                driver.close()
            if isinstance(exc, AuthError):
                raise StoreError(f"Neo4j at {uri} refused the credentials of user {config.user!r} "
                                 "(authentication failed; check NEO4J_USER/NEO4J_PASSWORD)") from exc
            if isinstance(exc, ServiceUnavailable):
                raise StoreError(f"cannot reach Neo4j at {where}: server unreachable") from exc
            if isinstance(exc, Neo4jError | DriverError | ValueError | OSError):
                raise StoreError(f"cannot connect to Neo4j at {where}: {one_line(exc)}") from exc
            raise StoreError(f"cannot connect to Neo4j at {where}: {type(exc).__name__}: {one_line(exc)}") from exc
        versions = [v for record in records if record["name"] == "Neo4j Kernel" for v in record["versions"]]
        version = versions[0] if versions else "unknown"
        major = re.match(r"\d+", version)
        if major is None or int(major.group()) < MIN_MAJOR_VERSION:
            driver.close()
            raise StoreError(f"Neo4j at {uri} is version {version}; kgbuild needs Neo4j {MIN_MAJOR_VERSION} or newer")
        self.driver = driver
        self.server_version = version
        self.dynamic_types = writes.server_version_tuple(version) >= writes.DYNAMIC_TYPES_SINCE
        log.info("connected to Neo4j %s at %s", version, uri)

    # -- schema -------------------------------------------------------------------------
    def ensure_schema(self, schema: RelationSchema) -> None:
        """Every relationship type is checked first; then as :meth:`BaseGraphStore.ensure_schema`."""
        for rel_type in schema.relationship_types.values():
            writes.plain_rel_type(rel_type)
        if self.read_only and self._has_edge_evidence():
            raise StoreError(writes.EARLIER_GRAPH)
        super().ensure_schema(schema)

    def _create_schema(self, schema: RelationSchema) -> None:
        """Constraints and indexes, each its own transaction, as Neo4j requires; then a graph written by an
        earlier version gets its evidence lists moved into records."""
        for statement in writes.SCHEMA_STATEMENTS:
            self.write_transaction(writes.CountingTransaction.run, statement)
        while self._has_edge_evidence():  # each pass moves up to MOVE_BATCH edges' lists
            self.write_transaction(writes.move_edge_evidence, writes.MOVE_BATCH)

    def _has_edge_evidence(self) -> bool:
        """Whether some edge still holds an evidence list (the property key first: a fresh database has none)."""
        return bool(self._read(writes.EVIDENCE_KEY_EXISTS)) and bool(self._read(writes.EDGE_EVIDENCE_EXISTS))

    # -- reads --------------------------------------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        rows = self._read("MATCH (d:Document) RETURN d.id AS id, d.path AS path, d.hash AS hash")
        return {r["path"]: DocumentRecord(id=r["id"], path=r["path"], hash=r["hash"]) for r in rows}

    def _read_aliases(self) -> list[Alias]:
        return [Alias.from_row(row) for row in self._read(READ_ALIASES)]

    def stats(self) -> GraphStats:
        stats = GraphStats()
        for label in NODE_LABELS:
            count = self._read(f"MATCH (n:{label}) RETURN count(n) AS n")[0]["n"]
            if count:
                stats.nodes[label] = int(count)
        for row in self._read("MATCH ()-[r]->() RETURN type(r) AS type, count(r) AS n"):
            kind = stats.lexical if row["type"] in LEXICAL_RELATIONSHIPS else stats.relationships
            kind[row["type"]] = int(row["n"])
        if sentences := self._read("MATCH (s:Sentence) RETURN count(s) AS n")[0]["n"]:
            stats.lexical[SENTENCE] = int(sentences)
        return stats

    def iter_triples(self) -> Iterator[Triple]:
        records = records_by_fact(self._rows(ALL_RECORDS))
        rows = self._rows("MATCH (h:Entity)-[r]->(t:Entity) RETURN h.key, h.name, h.type, type(r), t.key, t.name, "
                          "t.type")
        yield from self._triples_from_rows(rows, records)

    def _run_query(self, cypher: str, params: dict[str, Any], write: bool, timeout: float | None = None) -> QueryResult:
        """A READ transaction unless ``write`` (the server refuses writes, write procedures included), in which
        the server's planner must first see a plain read (:mod:`read_plans`); ``timeout`` is its time limit."""
        from neo4j import unit_of_work
        from neo4j.exceptions import DriverError, Neo4jError

        @unit_of_work(timeout=timeout)
        def work(tx: Any) -> QueryResult:
            if not write:
                refuse_unless_read_summary(tx.run("EXPLAIN " + cypher, params).consume())
            result = tx.run(cypher, params)
            columns = list(result.keys())
            return QueryResult(columns, [[plain(record[c]) for c in columns] for record in result])

        try:
            with self.driver.session(database=self.config.database) as session:
                return session.execute_write(work) if write else session.execute_read(work)
        except Neo4jError as exc:
            if "AccessMode" in (exc.code or ""):
                raise ReadOnlyQueryError("the query tried to write in a read transaction; pass --write to allow it") \
                    from exc
            if "TransactionTimedOut" in (exc.code or ""):
                raise QueryTimeoutError(timeout) from exc
            raise StoreError(f"query failed: {one_line(exc)}") from exc
        except DriverError as exc:
            raise StoreError(f"query failed, Neo4j at {safe_uri(self.config.uri)}: {one_line(exc)}") from exc
        except (TypeError, ValueError) as exc:  # the driver refuses a parameter value it cannot send
            raise StoreError(f"query failed: {one_line(exc)}") from exc

    # -- writes -------------------------------------------------------------------------
    def replace_document(
        self, document: DocumentRecord, triples: Sequence[Triple], previous: DocumentRecord | None = None,
        aliases: Sequence[Alias] | None = None,
    ) -> None:
        """One transaction: drop ``previous``'s evidence (and edges left with none) and node, then write."""
        self._require_schema()
        with self._restoring_aliases():
            update = self._document_aliases(self._replaced_documents(document, previous, aliases), aliases or ())
            prepared = self.prepare(triples)

            def work(tx: writes.CountingTransaction) -> None:
                if previous is not None:
                    writes.remove_document_tx(tx, previous.id)
                tx.run(MERGE_DOCUMENT, **document_params(document))
                writes.write_document_aliases(tx, update)
                self._merge(tx, prepared)

            self.write_transaction(work)

    def write_triples(self, triples: Sequence[Triple]) -> None:
        """Bulk merge: entity batches, then edge batches of all types sorted by key; each batch one transaction."""
        prepared = self.prepare(triples)
        for chunk in writes.batches(sorted(prepared.entity_rows, key=lambda row: row["key"]), self.batch_size):
            self.write_transaction(writes.CountingTransaction.run, MERGE_ENTITIES, rows=chunk)
        for edge_chunk in writes.batches(writes.sorted_edges(prepared), self.batch_size):
            self.write_edge_batch(edge_chunk)

    def write_edge_batch(self, items: EdgeItems) -> None:
        """One batch of edges (sorted, their entities written) in its own transaction; benchmarks time it."""
        self.write_transaction(self._merge_edges, items)

    def remove_document(self, doc_id: str) -> None:
        self._require_schema()
        with self._restoring_aliases():
            update = self._document_aliases([doc_id], ())
            def work(tx: writes.CountingTransaction) -> None:
                writes.remove_document_tx(tx, doc_id)
                writes.write_document_aliases(tx, update)

            self.write_transaction(work)

    def _relink(self, records: list[Alias], keys: set[str], change: Change | None = None) -> None:
        def work(tx: writes.CountingTransaction) -> None:
            stored = list(self._triples_from_rows(*writes.take_edges_touching(tx, sorted(keys))))
            tx.run(MERGE_ALIASES, rows=[r.to_row() for r in records])
            prepared, orphans = self._rebuild_plan(stored, keys, change)
            if orphans:
                tx.run(DELETE_ENTITIES, keys=orphans)
            self._merge(tx, prepared)
            tx.run(SET_ENTITY_ALIASES, rows=self._alias_rows(keys.difference(orphans)))

        self.write_transaction(work)

    def _merge_edges(self, tx: writes.CountingTransaction, items: EdgeItems) -> None:
        """The edges, then the sentences and mentions behind them (:mod:`kgbuild.graph.lexical`)."""
        writes.merge_edge_batch(tx, items, self.dynamic_types)
        writes.merge_lexical(tx, *lexical_rows(items))

    def _merge(self, tx: writes.CountingTransaction, prepared: PreparedWrite) -> None:
        for chunk in writes.batches(sorted(prepared.entity_rows, key=lambda row: row["key"]), self.batch_size):
            tx.run(MERGE_ENTITIES, rows=chunk)
        for edge_chunk in writes.batches(writes.sorted_edges(prepared), self.batch_size):
            self._merge_edges(tx, edge_chunk)

    def profile_write(self, triples: Sequence[Triple]) -> list[StatementProfile]:
        """PROFILE each statement that writing ``triples`` as one batch runs (entities, then edges), in a
        transaction that is rolled back: the plans, row counts and db hits, and nothing written."""
        prepared = self.prepare(triples)
        with self.driver.session(database=self.config.database) as session:
            tx = session.begin_transaction()
            try:
                profiling = writes.ProfilingTransaction(tx)
                self._merge(profiling, prepared)
                return profiling.profiles
            finally:
                tx.rollback()

    # -- plumbing -----------------------------------------------------------------------
    def write_transaction(self, work: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        """Run ``work(tx, *args, **kwargs)`` in one managed write transaction: all of it commits or none does."""
        from neo4j.exceptions import ConstraintError, DriverError, Neo4jError, ServiceUnavailable

        def attempt(tx: Any) -> WriteCounters:
            wrapped = writes.CountingTransaction(tx)
            work(wrapped, *args, **kwargs)
            return wrapped.counters

        try:
            with self.driver.session(database=self.config.database) as session:
                self.counters.add(session.execute_write(attempt))
        except ConstraintError as exc:
            raise StoreError(f"Neo4j constraint conflict, nothing from this batch was written: {one_line(exc)}") \
                from exc
        except ServiceUnavailable as exc:
            raise StoreError(f"lost the connection to Neo4j at {safe_uri(self.config.uri)}; "
                             "this batch was rolled back") from exc
        except (Neo4jError, DriverError) as exc:
            raise StoreError(f"Neo4j transaction failed and was rolled back: {one_line(exc)}") from exc

    def _rows(self, cypher: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        return [list(row.values()) for row in self._read(cypher, **(params or {}))]

    def _read(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable

        try:
            with self.driver.session(database=self.config.database) as session:
                return list(session.execute_read(lambda tx: tx.run(cypher, params).data()))
        except ServiceUnavailable as exc:
            raise StoreError(f"lost the connection to Neo4j at {safe_uri(self.config.uri)}") from exc
        except (Neo4jError, DriverError) as exc:
            raise StoreError(f"Neo4j read failed: {one_line(exc)}") from exc

    def close(self) -> None:
        self.driver.close()


__all__ = ["MIN_MAJOR_VERSION", "Neo4jStore", "StatementProfile", "WriteCounters"]
