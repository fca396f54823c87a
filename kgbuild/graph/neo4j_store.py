"""Neo4j store over the official driver: same graph model and evidence as the embedded store.

Writes are ``UNWIND $rows`` batches inside ``execute_write`` managed transactions (retried on
transient errors): nodes first, then one statement per relationship type. Relationship types
come from the relation schema and are checked against an identifier pattern before they are
placed in a statement; every value travels as a parameter. A document is replaced in a single
transaction, so a failure never leaves half a document behind.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from typing import Any

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


class Neo4jStore:
    name = "neo4j"

    def __init__(self, config: Neo4jConfig) -> None:
        import neo4j
        from neo4j.exceptions import AuthError, Neo4jError, ServiceUnavailable

        self.config = config
        self.batch_size = config.batch_size
        password = config.password.get_secret_value() if config.password is not None else ""
        where = f"{config.uri} (database {config.database!r})"
        try:
            self._driver = neo4j.GraphDatabase.driver(
                config.uri, auth=(config.user, password), notifications_min_severity="OFF"
            )
            self._driver.verify_connectivity()
            records, _, _ = self._driver.execute_query(
                "CALL dbms.components() YIELD name, versions RETURN name, versions", database_=config.database,
                routing_=neo4j.RoutingControl.READ,
            )
        except AuthError as exc:
            raise StoreError(f"Neo4j at {config.uri} refused the credentials of user {config.user!r} "
                             "(authentication failed; check NEO4J_USER/NEO4J_PASSWORD)") from exc
        except ServiceUnavailable as exc:
            raise StoreError(f"cannot reach Neo4j at {where}: server unreachable") from exc
        except (Neo4jError, ValueError, OSError) as exc:
            raise StoreError(f"cannot connect to Neo4j at {where}: {_one_line(exc)}") from exc
        versions = [v for record in records if record["name"] == "Neo4j Kernel" for v in record["versions"]]
        major = int(versions[0].split(".")[0]) if versions else 0
        if major < 5:
            self._driver.close()
            raise StoreError(f"Neo4j at {config.uri} is version {versions[0] if versions else 'unknown'}; "
                             "kgbuild needs Neo4j 5 or newer")
        self.server_version = versions[0]
        self._schema: RelationSchema | None = None

    # -- schema -------------------------------------------------------------------------
    def ensure_schema(self, schema: RelationSchema) -> None:
        self._schema = schema
        for statement in _SCHEMA_STATEMENTS:
            self._execute(statement)

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
        from neo4j.exceptions import Neo4jError

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

    # -- writes -------------------------------------------------------------------------
    def replace_document(
        self, document: DocumentRecord, triples: Sequence[Triple], previous: DocumentRecord | None = None
    ) -> None:
        schema = self._require_schema()
        entities, edges = group_triples(triples, schema)

        def work(tx: Any) -> None:
            if previous is not None:
                self._remove_document(tx, previous.id)
            tx.run("MERGE (d:Document {id: $id}) SET d.path = $path, d.hash = $hash",
                   id=document.id, path=document.path, hash=document.hash).consume()
            self._merge(tx, entities, edges)

        self._write(work)

    def write_triples(self, triples: Sequence[Triple]) -> None:
        """Bulk merge: entity batches, then per relationship type edge batches; each batch one transaction."""
        entities, edges = group_triples(triples, self._require_schema())
        rows = _entity_rows(entities)
        for start in range(0, len(rows), self.batch_size):
            chunk = rows[start:start + self.batch_size]
            self._write(lambda tx, c=chunk: tx.run(MERGE_ENTITIES, rows=c).consume())
        for rel_type, items in _by_type(edges).items():
            for start in range(0, len(items), self.batch_size):
                self._write(lambda tx, r=rel_type, c=items[start:start + self.batch_size]: self._merge_edges(tx, r, c))

    def remove_document(self, doc_id: str) -> None:
        self._write(lambda tx: self._remove_document(tx, doc_id))

    def _remove_document(self, tx: Any, doc_id: str) -> None:
        rows = tx.run(
            "MATCH (h:Entity)-[r]->(t:Entity) WHERE $id IN r.doc_ids "
            "RETURN elementId(r) AS rid, r.evidence AS evidence", id=doc_id,
        ).data()
        updates, deletions = without_document((({"rid": r["rid"]}, r["evidence"]) for r in rows), doc_id)
        if deletions:
            tx.run("UNWIND $rows AS row MATCH ()-[r]->() WHERE elementId(r) = row.rid DELETE r",
                   rows=deletions).consume()
        if updates:
            tx.run(f"UNWIND $rows AS row MATCH ()-[r]->() WHERE elementId(r) = row.rid {SET_EDGE_PROPERTIES}",
                   rows=updates).consume()
        tx.run("MATCH (d:Document {id: $id}) DETACH DELETE d", id=doc_id).consume()

    def _merge(self, tx: Any, entities: dict[str, Entity], edges: dict[EdgeKey, list[Evidence]]) -> None:
        rows = _entity_rows(entities)
        for start in range(0, len(rows), self.batch_size):
            tx.run(MERGE_ENTITIES, rows=rows[start:start + self.batch_size]).consume()
        for rel_type, items in _by_type(edges).items():
            for start in range(0, len(items), self.batch_size):
                self._merge_edges(tx, rel_type, items[start:start + self.batch_size])

    def _merge_edges(self, tx: Any, rel_type: str, items: list[tuple[EdgeKey, list[Evidence]]]) -> None:
        """MERGE edges; new ones get their properties at once, existing ones come back for an evidence union.

        One round trip on a first load; on a rerun the union equals what is stored, so nothing is rewritten.
        """
        rel = _rel_type(rel_type)
        rows = [{"h": k.head_key, "t": k.tail_key, "props": edge_properties(evidence)} for k, evidence in items]
        existing = tx.run(
            f"UNWIND $rows AS row MATCH (h:Entity {{key: row.h}}), (t:Entity {{key: row.t}}) "
            f"MERGE (h)-[r:{rel}]->(t) ON CREATE SET r += row.props ON MATCH SET r.kgbuild_seen = true "
            "WITH r, row WHERE r.kgbuild_seen REMOVE r.kgbuild_seen "
            "RETURN row.h AS h, row.t AS t, r.evidence AS evidence", rows=rows,
        ).data()
        if not existing:
            return
        new = {(k.head_key, k.tail_key): evidence for k, evidence in items}
        updates = []
        for row in existing:
            stored = {Evidence.from_json(e) for e in row["evidence"] or []}
            union = stored | set(new[(row["h"], row["t"])])
            if union != stored:
                updates.append({"h": row["h"], "t": row["t"], **edge_properties(union)})
        if updates:
            tx.run(f"UNWIND $rows AS row MATCH (h:Entity {{key: row.h}})-[r:{rel}]->(t:Entity {{key: row.t}}) "
                   f"{SET_EDGE_PROPERTIES}", rows=updates).consume()

    # -- plumbing -----------------------------------------------------------------------
    def _write(self, work: Any) -> None:
        from neo4j.exceptions import ConstraintError, Neo4jError, ServiceUnavailable

        try:
            with self._driver.session(database=self.config.database) as session:
                session.execute_write(work)
        except ConstraintError as exc:
            raise StoreError(f"Neo4j constraint conflict, nothing from this batch was written: {_one_line(exc)}") \
                from exc
        except ServiceUnavailable as exc:
            raise StoreError(f"lost the connection to Neo4j at {self.config.uri}; this batch was rolled back") \
                from exc
        except Neo4jError as exc:
            raise StoreError(f"Neo4j transaction failed and was rolled back: {_one_line(exc)}") from exc

    def _execute(self, statement: str) -> None:
        self._write(lambda tx: tx.run(statement).consume())

    def _read(self, cypher: str, **params: Any) -> list[dict[str, Any]]:
        from neo4j.exceptions import Neo4jError, ServiceUnavailable

        try:
            with self._driver.session(database=self.config.database) as session:
                return list(session.execute_read(lambda tx: tx.run(cypher, params).data()))
        except ServiceUnavailable as exc:
            raise StoreError(f"lost the connection to Neo4j at {self.config.uri}") from exc
        except Neo4jError as exc:
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


def _one_line(exc: BaseException) -> str:
    message = getattr(exc, "message", None) or str(exc)
    return " ".join(str(message).split())[:300]


def _plain(value: Any) -> Any:
    """Driver graph types → plain dicts, so tables and JSON look the same as the embedded store's."""
    from neo4j.graph import Node, Relationship

    if isinstance(value, Node):
        return {**dict(value.items()), "_label": next(iter(value.labels), None)}
    if isinstance(value, Relationship):
        return {**dict(value.items()), "_label": value.type}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "iso_format"):
        return value.iso_format()
    return value
