"""LadybugDB's node writes without ``MERGE``: look the keys up, ``CREATE`` the missing nodes, update the rest.

LadybugDB 0.22 answers ``UNWIND $rows AS row MERGE (n:Label {key: row.key})`` at a cost that grows with the
table as well as with the rows: 50,000 new sentences took 1.5 s into an empty table and 31 s into one of
150,000, and 1,000 rows took 0.5 s against a table of 200,000, so a folder's ingest slowed as its graph grew
(docs/PERFORMANCE.md, "Embedded writes and the size of the store"). A ``MATCH`` on the primary key is an index
lookup: the same 50,000 rows written this way took 0.9 s at every size. Neo4j's ``MERGE`` is backed by its
uniqueness constraints and keeps the shared statements of :mod:`kgbuild.graph.queries`.

Only the statement text is fixed here; every value is a parameter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kgbuild.graph.queries import SET_ENTITY_ALIASES

Rows = list[dict[str, Any]]


@dataclass(frozen=True)
class NodeTable:
    """How one node table is written: its primary key, the columns a new node gets, and the statement for rows
    whose node exists already (None: an existing node keeps what it has, as ``ON CREATE SET`` would)."""

    label: str
    key: str
    columns: tuple[str, ...]
    update: str | None

    @property
    def find(self) -> str:
        return f"UNWIND $keys AS k MATCH (n:{self.label} {{{self.key}: k}}) RETURN n.{self.key}"

    @property
    def create(self) -> str:
        values = ", ".join(f"{column}: row.{column}" for column in (self.key, *self.columns))
        return f"UNWIND $rows AS row CREATE (:{self.label} {{{values}}})"


def _set_all(label: str, key: str, columns: tuple[str, ...]) -> str:
    """Overwrite every column of existing nodes, as ``MERGE … SET`` did."""
    assignments = ", ".join(f"n.{column} = row.{column}" for column in columns)
    return f"UNWIND $rows AS row MATCH (n:{label} {{{key}: row.{key}}}) SET {assignments}"


_ALIAS_COLUMNS = ("spelling", "type", "canonical", "reason", "score", "doc_id", "undone")
_DOCUMENT_COLUMNS = ("path", "hash")

ENTITIES = NodeTable("Entity", "key", ("name", "type", "aliases"), SET_ENTITY_ALIASES)  # aliases only when changed
SENTENCES = NodeTable("Sentence", "id", ("doc_id", "position", "start_char", "text"), None)
ALIASES = NodeTable("Alias", "id", _ALIAS_COLUMNS, _set_all("Alias", "id", _ALIAS_COLUMNS))
DOCUMENTS = NodeTable("Document", "id", _DOCUMENT_COLUMNS, _set_all("Document", "id", _DOCUMENT_COLUMNS))


def upsert_nodes(
    run: Callable[[str, dict[str, Any]], Any],
    rows_of: Callable[[str, dict[str, Any]], list[list[Any]]],
    table: NodeTable,
    rows: Rows,
) -> None:
    """Create the rows' missing nodes and update the existing ones; a key given twice keeps its last row, as a
    sequence of ``MERGE … SET`` would. Runs inside the caller's transaction."""
    latest = {row[table.key]: row for row in rows}
    if not latest:
        return
    found = {key for (key,) in rows_of(table.find, {"keys": list(latest)})}
    new = [row for key, row in latest.items() if key not in found]
    if new:
        run(table.create, {"rows": new})
    existing = [row for key, row in latest.items() if key in found]
    if existing and table.update:
        run(table.update, {"rows": existing})


__all__ = ["ALIASES", "DOCUMENTS", "ENTITIES", "SENTENCES", "NodeTable", "upsert_nodes"]
