"""Neo4j store over the official driver: same graph model and evidence as the embedded store.

Writes are ``UNWIND $rows`` batches inside ``execute_write`` managed transactions (retried on
transient errors): nodes first, then one statement per relationship type. Relationship types
come from the relation schema and are checked against an identifier pattern before they are
placed in a statement; every value travels as a parameter. A document is replaced in a single
transaction, so a failure never leaves half a document behind. Entities whose last edge went
away with a replaced document stay in the graph: harmless for queries and cheap to keep.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from kgbuild.config import Neo4jConfig
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
from kgbuild.relations.schema import RelationSchema
from kgbuild.types import Entity, Evidence, Triple

log = logging.getLogger(__name__)

MIN_MAJOR_VERSION = 5
_IDENTIFIER = re.compile(r"^[A-Z_][A-Z0-9_]*$")
_SCHEMA_STATEMENTS = (
    "CREATE CONSTRAINT kgbuild_entity_key IF NOT EXISTS FOR (e:Entity) REQUIRE e.key IS UNIQUE",
    "CREATE CONSTRAINT kgbuild_document_id IF NOT EXISTS FOR (d:Document) REQUIRE d.id IS UNIQUE",
    # TEXT indexes: names and paths are user text of any length; RANGE indexes reject values over ~8 kB.
    "CREATE TEXT INDEX kgbuild_document_path IF NOT EXISTS FOR (d:Document) ON (d.path)",
    "CREATE TEXT INDEX kgbuild_entity_name IF NOT EXISTS FOR (e:Entity) ON (e.name)",
    "CREATE INDEX kgbuild_entity_type IF NOT EXISTS FOR (e:Entity) ON (e.type)",
)


def _rel_type(rel_type: str) -> str:
    """The only text ever placed in a statement: a schema-derived identifier, checked again here."""
    if not _IDENTIFIER.match(rel_type):
        raise StoreError(f"refusing relationship type {rel_type!r}: not a plain identifier")
    return rel_type


@dataclass
class WriteCounters:
    """Committed write counts from the driver's result summaries; a rerun of the same data adds none."""

    nodes_created: int = 0
    nodes_deleted: int = 0
    relationships_created: int = 0
    relationships_deleted: int = 0
    properties_set: int = 0

    def add(self, other: Any) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    def since(self, before: WriteCounters) -> WriteCounters:
        """What was written after ``before`` (a ``copy()`` taken earlier) was taken."""
        return WriteCounters(**{item.name: getattr(self, item.name) - getattr(before, item.name)
                                for item in fields(self)})

    def copy(self) -> WriteCounters:
        return WriteCounters(**{item.name: getattr(self, item.name) for item in fields(self)})


class _Tx:
    """One attempt of a managed transaction; tallies counters so only committed attempts are counted."""

    def __init__(self, tx: Any) -> None:
        self.tx = tx
        self.counters = WriteCounters()

    def run(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        result = self.tx.run(cypher, params)
        rows: list[dict[str, Any]] = result.data()
        self.counters.add(result.consume().counters)
        return rows


class Neo4jStore:
    name = "neo4j"

    def __init__(self, config: Neo4jConfig, read_only: bool = False) -> None:
        import neo4j
        from neo4j.exceptions import AuthError, DriverError, Neo4jError, ServiceUnavailable

        self.config = config
        self.read_only = read_only
        self.batch_size = config.batch_size
        self.counters = WriteCounters()
        self._schema: RelationSchema | None = None
        uri = _safe_uri(config.uri)
        where = f"{uri} (database {config.database!r})"
        password = config.password.get_secret_value() if config.password is not None else ""
        driver = None
        try:
            driver = neo4j.GraphDatabase.driver(
                config.uri, auth=(config.user, password), notifications_min_severity="OFF"
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
                raise StoreError(f"cannot connect to Neo4j at {where}: {_one_line(exc)}") from exc
            raise
        versions = [v for record in records if record["name"] == "Neo4j Kernel" for v in record["versions"]]
        version = versions[0] if versions else "unknown"
        major = re.match(r"\d+", version)
        if major is None or int(major.group()) < MIN_MAJOR_VERSION:
            driver.close()
            raise StoreError(f"Neo4j at {uri} is version {version}; kgbuild needs Neo4j {MIN_MAJOR_VERSION} or newer")
        self._driver = driver
        self.server_version = version
        log.info("connected to Neo4j %s at %s", version, uri)

    # -- schema -------------------------------------------------------------------------
    def ensure_schema(self, schema: RelationSchema) -> None:
        """Constraints and indexes (each its own transaction, as Neo4j requires); safe to repeat.

        A read-only store only learns the schema, which maps relationship types back to labels."""
        for rel_type in schema.relationship_types.values():
            _rel_type(rel_type)
        self._schema = schema
        if self.read_only:  # query/stats/export never change the database, not even its indexes
            return
        for statement in _SCHEMA_STATEMENTS:
            self._write(_Tx.run, statement)

    def _require_schema(self) -> RelationSchema:
        if self._schema is None:
            raise StoreError("ensure_schema() must run before writing")
        return self._schema

    # -- reads --------------------------------------------------------------------------
    def documents(self) -> dict[str, DocumentRecord]:
        rows = self._read("MATCH (d:Document) RETURN d.id AS id, d.path AS path, d.hash AS hash")
        return {r["path"]: DocumentRecord(id=r["id"], path=r["path"], hash=r["hash"]) for r in rows}

    def stats(self) -> GraphStats:
        stats = GraphStats()
        for label in ("Document", "Entity"):
            count = self._read(f"MATCH (n:{label}) RETURN count(n) AS n")[0]["n"]
            if count:
                stats.nodes[label] = int(count)
        for row in self._read("MATCH ()-[r]->() RETURN type(r) AS type, count(r) AS n"):
            stats.relationships[row["type"]] = int(row["n"])
        return stats

    def iter_triples(self) -> Iterator[Triple]:
        """One triple per stored evidence item, labelled as in the schema (the raw type if unknown)."""
        labels = {v: k for k, v in self._schema.relationship_types.items()} if self._schema else {}
        rows = self._read(
            "MATCH (h:Entity)-[r]->(t:Entity) RETURN h.name AS hn, h.type AS ht, type(r) AS rel, "
            "t.name AS tn, t.type AS tt, r.evidence AS evidence"
        )
        for row in rows:
            for item in row["evidence"] or []:
                yield Triple(Entity(row["hn"], row["ht"]), labels.get(row["rel"], row["rel"]),
                             Entity(row["tn"], row["tt"]), Evidence.from_json(item))

    def query(self, cypher: str, params: dict[str, Any] | None = None, write: bool = False) -> QueryResult:
        """User Cypher. Without ``write``: refused early on a write keyword, then run in a READ transaction,
        which the server itself keeps from writing (this also stops write procedures such as db.createLabel)."""
        from neo4j.exceptions import DriverError, Neo4jError

        if not write:
            clause = write_clause_in(cypher)
            if clause:
                raise ReadOnlyQueryError(
                    f"query contains the write clause {clause}; `kgbuild query` is read-only unless --write is given"
                )

        def work(tx: Any) -> QueryResult:
            result = tx.run(cypher, params or {})
            columns = list(result.keys())
            return QueryResult(columns, [[_plain(record[c]) for c in columns] for record in result])

        try:
            with self._driver.session(database=self.config.database) as session:
                return session.execute_write(work) if write else session.execute_read(work)
        except Neo4jError as exc:
            if "AccessMode" in (exc.code or ""):
                raise ReadOnlyQueryError("the query tried to write in a read transaction; pass --write to allow it") \
                    from exc
            raise StoreError(f"query failed: {_one_line(exc)}") from exc
        except DriverError as exc:
            raise StoreError(f"query failed, Neo4j at {_safe_uri(self.config.uri)}: {_one_line(exc)}") from exc

    # -- writes -------------------------------------------------------------------------
    def replace_document(
        self, document: DocumentRecord, triples: Sequence[Triple], previous: DocumentRecord | None = None
    ) -> None:
        """One transaction: drop ``previous``'s evidence (and edges left with none) and node, then write."""
        schema = self._require_schema()
        entities, edges = group_triples(triples, schema)

        def work(tx: _Tx) -> None:
            if previous is not None:
                self._remove_document(tx, previous.id)
            tx.run("MERGE (d:Document {id: $id}) SET d.path = $path, d.hash = $hash",
                   id=document.id, path=document.path, hash=document.hash)
            self._merge(tx, entities, edges)

        self._write(work)

    def write_triples(self, triples: Sequence[Triple]) -> None:
        """Bulk merge: entity batches, then per relationship type edge batches; each batch one transaction."""
        entities, edges = group_triples(triples, self._require_schema())
        rows = _entity_rows(entities)
        for start in range(0, len(rows), self.batch_size):
            chunk = rows[start:start + self.batch_size]
            self._write(_Tx.run, MERGE_ENTITIES, rows=chunk)
        for rel_type, items in _by_type(edges).items():
            for start in range(0, len(items), self.batch_size):
                self._write(self._merge_edges, rel_type, items[start:start + self.batch_size])

    def remove_document(self, doc_id: str) -> None:
        self._write(self._remove_document, doc_id)

    def _remove_document(self, tx: _Tx, doc_id: str) -> None:
        rows = tx.run(
            "MATCH (:Entity)-[r]->(:Entity) WHERE $id IN r.doc_ids RETURN elementId(r) AS rid, r.evidence AS evidence",
            id=doc_id,
        )
        updates, deletions = without_document((({"rid": r["rid"]}, r["evidence"]) for r in rows), doc_id)
        if deletions:
            tx.run("UNWIND $rows AS row MATCH ()-[r]->() WHERE elementId(r) = row.rid DELETE r", rows=deletions)
        if updates:
            tx.run(f"UNWIND $rows AS row MATCH ()-[r]->() WHERE elementId(r) = row.rid {SET_EDGE_PROPERTIES}",
                   rows=updates)
        tx.run("MATCH (d:Document {id: $id}) DETACH DELETE d", id=doc_id)

    def _merge(self, tx: _Tx, entities: dict[str, Entity], edges: dict[EdgeKey, list[Evidence]]) -> None:
        rows = _entity_rows(entities)
        for start in range(0, len(rows), self.batch_size):
            tx.run(MERGE_ENTITIES, rows=rows[start:start + self.batch_size])
        for rel_type, items in _by_type(edges).items():
            for start in range(0, len(items), self.batch_size):
                self._merge_edges(tx, rel_type, items[start:start + self.batch_size])

    def _merge_edges(self, tx: _Tx, rel_type: str, items: list[tuple[EdgeKey, list[Evidence]]]) -> None:
        """MERGE edges: new ones get their properties at once; existing ones whose stored evidence differs
        come back, are unioned with the new evidence in Python and rewritten only if the union grew.

        One round trip on a first load; on a rerun nothing is written at all (0 properties set).
        """
        rel = _rel_type(rel_type)
        rows = [{"h": k.head_key, "t": k.tail_key, "props": edge_properties(evidence)} for k, evidence in items]
        differing = tx.run(
            f"UNWIND $rows AS row MATCH (h:Entity {{key: row.h}}), (t:Entity {{key: row.t}}) "
            f"MERGE (h)-[r:{rel}]->(t) ON CREATE SET r += row.props "
            "WITH r, row WHERE r.evidence IS NULL OR r.evidence <> row.props.evidence "
            "RETURN row.h AS h, row.t AS t, r.evidence AS evidence",
            rows=rows,
        )
        if not differing:
            return
        new = {(k.head_key, k.tail_key): evidence for k, evidence in items}
        updates = []
        for row in differing:
            stored = {Evidence.from_json(e) for e in row["evidence"] or []}
            union = stored | set(new[(row["h"], row["t"])])
            if union != stored:
                updates.append({"h": row["h"], "t": row["t"], **edge_properties(union)})
        if updates:
            tx.run(f"UNWIND $rows AS row MATCH (h:Entity {{key: row.h}})-[r:{rel}]->(t:Entity {{key: row.t}}) "
                   f"{SET_EDGE_PROPERTIES}", rows=updates)

    # -- plumbing -----------------------------------------------------------------------
    def _write(self, work: Callable[..., object], *args: Any, **kwargs: Any) -> None:
        """Run ``work(tx, *args, **kwargs)`` in one managed write transaction: all of it commits or none does."""
        from neo4j.exceptions import ConstraintError, DriverError, Neo4jError, ServiceUnavailable

        def attempt(tx: Any) -> WriteCounters:
            wrapped = _Tx(tx)
            work(wrapped, *args, **kwargs)
            return wrapped.counters

        try:
            with self._driver.session(database=self.config.database) as session:
                self.counters.add(session.execute_write(attempt))
        except ConstraintError as exc:
            raise StoreError(f"Neo4j constraint conflict, nothing from this batch was written: {_one_line(exc)}") \
                from exc
        except ServiceUnavailable as exc:
            raise StoreError(f"lost the connection to Neo4j at {_safe_uri(self.config.uri)}; "
                             "this batch was rolled back") from exc
        except (Neo4jError, DriverError) as exc:
            raise StoreError(f"Neo4j transaction failed and was rolled back: {_one_line(exc)}") from exc

    def _read(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        from neo4j.exceptions import DriverError, Neo4jError, ServiceUnavailable

        try:
            with self._driver.session(database=self.config.database) as session:
                return list(session.execute_read(lambda tx: tx.run(cypher, params).data()))
        except ServiceUnavailable as exc:
            raise StoreError(f"lost the connection to Neo4j at {_safe_uri(self.config.uri)}") from exc
        except (Neo4jError, DriverError) as exc:
            raise StoreError(f"Neo4j read failed: {_one_line(exc)}") from exc

    def close(self) -> None:
        self._driver.close()


def _entity_rows(entities: dict[str, Entity]) -> list[dict[str, str]]:
    return [{"key": k, "name": e.name, "type": e.type} for k, e in entities.items()]


def _by_type(edges: dict[EdgeKey, list[Evidence]]) -> dict[str, list[tuple[EdgeKey, list[Evidence]]]]:
    grouped: dict[str, list[tuple[EdgeKey, list[Evidence]]]] = {}
    for key, evidence in edges.items():
        grouped.setdefault(key.rel_type, []).append((key, evidence))
    return grouped


def _safe_uri(uri: str) -> str:
    """The URI without any ``user:password@`` part, fit for messages and logs."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<invalid URI>"
    if "@" not in parts.netloc:
        return uri
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _one_line(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return " ".join(str(message).split())[:300]


def _plain(value: Any) -> Any:
    """Driver graph types → JSON-friendly values.

    A node becomes its properties plus ``_label``; a relationship its properties plus ``type`` and
    ``_label`` (the key the embedded store uses, so both stores print the same); a path its nodes
    and relationships; temporal values their ISO text.
    """
    from neo4j.graph import Node, Path, Relationship
    from neo4j.spatial import Point

    if isinstance(value, Node):
        return {**{k: _plain(v) for k, v in value.items()}, "_label": next(iter(sorted(value.labels)), None)}
    if isinstance(value, Relationship):
        return {**{k: _plain(v) for k, v in value.items()}, "type": value.type, "_label": value.type}
    if isinstance(value, Path):
        return {"nodes": [_plain(n) for n in value.nodes], "relationships": [_plain(r) for r in value.relationships]}
    if isinstance(value, Point):
        return {"srid": value.srid, "coordinates": list(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "iso_format"):
        return value.iso_format()
    return value
