"""Cypher shared by the embedded (LadybugDB) and Neo4j stores.

Every value travels as a parameter. The only text ever pasted into a statement is a relationship
type, passed in by the store already fit for its dialect: a schema-derived identifier (checked in
Neo4j, backtick-quoted in Ladybug). Edge rows carry ``h`` and ``t`` (entity keys) and, for the
property setters, the fields of :func:`kgbuild.graph.store.edge_properties`.
"""

from __future__ import annotations

from typing import Any

from kgbuild.graph.store import DocumentRecord

NODE_LABELS = ("Document", "Entity", "Alias", "Evidence")
READ_ENTITIES = "MATCH (e:Entity) RETURN e.key, e.name, e.type ORDER BY e.key"
# ``aliases`` is written only when it changed, so a rerun writes nothing.
MERGE_ENTITIES = (
    "UNWIND $rows AS row MERGE (e:Entity {key: row.key}) "
    "ON CREATE SET e.name = row.name, e.type = row.type, e.aliases = row.aliases "
    "WITH e, row WHERE coalesce(e.aliases, []) <> row.aliases SET e.aliases = row.aliases"
)
SET_ENTITY_ALIASES = (
    "UNWIND $rows AS row MATCH (e:Entity {key: row.key}) "
    "WHERE coalesce(e.aliases, []) <> row.aliases SET e.aliases = row.aliases"
)
DELETE_ENTITIES = "UNWIND $keys AS key MATCH (e:Entity {key: key}) DELETE e"  # only ever entities without edges
MERGE_ALIASES = (
    "UNWIND $rows AS row MERGE (a:Alias {id: row.id}) SET a.spelling = row.spelling, a.type = row.type, "
    "a.canonical = row.canonical, a.reason = row.reason, a.score = row.score, a.doc_id = row.doc_id, "
    "a.undone = row.undone"
)
DELETE_DOCUMENT_ALIASES = "MATCH (a:Alias) WHERE a.doc_id = $id AND NOT a.undone DELETE a"
READ_ALIASES = (
    "MATCH (a:Alias) RETURN a.spelling AS spelling, a.type AS type, a.canonical AS canonical, "
    "a.reason AS reason, a.score AS score, a.doc_id AS doc_id, a.undone AS undone"
)
TOUCHING = "WHERE h.key IN $keys OR t.key IN $keys "
SET_EDGE_PROPERTIES = (
    "SET r.confidence = row.confidence, r.model = row.model, r.support = row.support, r.reviewed = row.reviewed, "
    "r.doc_ids = row.doc_ids, r.sentence_ids = row.sentence_ids"
)
_FACT_COLUMNS = "RETURN h.key, h.name, h.type, {type}(r), t.key, t.name, t.type "
COUNT_FACTS = "MATCH (h:Entity)-[r]->(t:Entity) WHERE r.confidence >= $min RETURN count(r)"


def facts_page(type_function: str, limited: bool) -> str:
    """Fact edges for review, paged in the database: not fully reviewed first, then least confident (ties by
    keys and type, so pages never overlap). ``type_function`` is the dialect's: ``label`` or ``type``."""
    return ("MATCH (h:Entity)-[r]->(t:Entity) WHERE r.confidence >= $min " + _FACT_COLUMNS.format(type=type_function)
            + f"ORDER BY coalesce(r.reviewed, 0) >= r.support, r.confidence, h.key, {type_function}(r), t.key "
            + ("SKIP $skip LIMIT $limit" if limited else "SKIP $skip"))


def facts_touching(type_function: str) -> str:
    return ("MATCH (h:Entity)-[r]->(t:Entity) WHERE h.key IN $keys OR t.key IN $keys "
            + _FACT_COLUMNS.format(type=type_function))


MERGE_DOCUMENT = "MERGE (d:Document {id: $id}) SET d.path = $path, d.hash = $hash"


def document_params(document: DocumentRecord) -> dict[str, Any]:
    """The parameters of :data:`MERGE_DOCUMENT`."""
    return {"id": document.id, "path": document.path, "hash": document.hash}


def match_edges(rel: str) -> str:
    """Bind ``r`` to the existing ``rel`` edge of each row's (h, t); rows without one drop out."""
    return f"UNWIND $rows AS row MATCH (h:Entity {{key: row.h}})-[r:{rel}]->(t:Entity {{key: row.t}}) "


def merge_edges(rel: str) -> str:
    """Bind ``r`` to the ``rel`` edge of each row's (h, t), creating it when missing (both ends must exist).

    Nodes are matched first and the edge merged second: chained ``MERGE (h)…MERGE (t)…MERGE (h)-[]->(t)``
    misattaches edges in Kùzu-family engines. One ``MATCH`` per end: LadybugDB plans ``MATCH (h {..}), (t {..})``
    as a cross product of the rows with the whole table, so its cost grows with the table."""
    return (f"UNWIND $rows AS row MATCH (h:Entity {{key: row.h}}) MATCH (t:Entity {{key: row.t}}) "
            f"MERGE (h)-[r:{rel}]->(t) ")


def set_edges(rel: str) -> str:
    """Merge each row's edge and set all its properties from the row."""
    return merge_edges(rel) + SET_EDGE_PROPERTIES
