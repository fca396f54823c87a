"""What the embedded and Neo4j stores do identically; each subclass keeps only its dialect.

:class:`BaseGraphStore` owns the schema bookkeeping, the read-only guard in front of user
queries, the relationship-type → label map used when reading triples back, and the preparation
of a write (``group_triples`` output as entity rows and edges grouped by relationship type).
A subclass supplies its DDL, how a user query runs, and how it reads and writes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from kgbuild.graph.cypher_guard import read_only_violation
from kgbuild.graph.store import (
    DocumentRecord,
    EdgeKey,
    GraphStats,
    QueryResult,
    ReadOnlyQueryError,
    StoreError,
    group_triples,
)
from kgbuild.schema import RelationSchema
from kgbuild.types import Entity, Evidence, Triple

EdgeItems = list[tuple[EdgeKey, list[Evidence]]]


@dataclass(frozen=True)
class PreparedWrite:
    """Triples ready to write: entity rows for ``MERGE_ENTITIES``, then edges per relationship type."""

    entity_rows: list[dict[str, str]]
    edges_by_type: dict[str, EdgeItems]


def entity_rows(entities: dict[str, Entity]) -> list[dict[str, str]]:
    return [{"key": k, "name": e.name, "type": e.type} for k, e in entities.items()]


def edges_by_type(edges: dict[EdgeKey, list[Evidence]]) -> dict[str, EdgeItems]:
    """Edges grouped by relationship type, each group in first-seen order."""
    grouped: dict[str, EdgeItems] = {}
    for key, evidence in edges.items():
        grouped.setdefault(key.rel_type, []).append((key, evidence))
    return grouped


class BaseGraphStore(ABC):
    """Shared half of every store; satisfies :class:`kgbuild.graph.store.GraphStore` with its subclasses."""

    name: str

    def __init__(self, read_only: bool = False) -> None:
        self.read_only = read_only
        self._schema: RelationSchema | None = None

    # -- schema -------------------------------------------------------------------------
    def ensure_schema(self, schema: RelationSchema) -> None:
        """Remember the schema (it maps relationship types back to labels) and create the store's
        tables/constraints/indexes; safe to repeat. A read-only store only learns the schema:
        query/stats/export never change the database, not even its indexes."""
        self._schema = schema
        if self.read_only:
            return
        self._create_schema(schema)

    @abstractmethod
    def _create_schema(self, schema: RelationSchema) -> None:
        """The dialect's DDL for ``schema``; every statement idempotent."""

    def _require_schema(self) -> RelationSchema:
        if self._schema is None:
            raise StoreError("ensure_schema() must run before writing")
        return self._schema

    # -- reads --------------------------------------------------------------------------
    def query(self, cypher: str, params: dict[str, Any] | None = None, write: bool = False) -> QueryResult:
        """User Cypher with parameters. Without ``write`` a query with a write keyword is refused here,
        before it reaches the store, and then runs read-only by the store's own means."""
        if not write:
            refuse_write_clause(cypher)
        return self._run_query(cypher, params or {}, write)

    @abstractmethod
    def _run_query(self, cypher: str, params: dict[str, Any], write: bool) -> QueryResult:
        """Run user Cypher, natively read-only unless ``write``; rows as plain JSON-friendly values."""

    def _labels_by_type(self) -> dict[str, str]:
        """Relationship type → schema label; empty before :meth:`ensure_schema`."""
        return {v: k for k, v in self._schema.relationship_types.items()} if self._schema else {}

    def _triples_from_rows(self, rows: Iterable[Sequence[Any]]) -> Iterator[Triple]:
        """One triple per evidence item of each (head name, head type, rel type, tail name, tail type,
        evidence JSON list) row, labelled as in the schema (the raw type if the schema lacks it)."""
        labels = self._labels_by_type()
        for h_name, h_type, rel_type, t_name, t_type, evidence in rows:
            for item in evidence or []:
                yield Triple(Entity(h_name, h_type), labels.get(rel_type, rel_type),
                             Entity(t_name, t_type), Evidence.from_json(item))

    # -- writes -------------------------------------------------------------------------
    def _prepare(self, triples: Sequence[Triple]) -> PreparedWrite:
        """Group triples against the schema (``no_relation`` dropped, unknown labels refused)."""
        entities, edges = group_triples(triples, self._require_schema())
        return PreparedWrite(entity_rows(entities), edges_by_type(edges))

    # -- the rest of GraphStore, per dialect --------------------------------------------
    @abstractmethod
    def documents(self) -> dict[str, DocumentRecord]: ...

    @abstractmethod
    def replace_document(
        self, document: DocumentRecord, triples: Sequence[Triple], previous: DocumentRecord | None = None
    ) -> None: ...

    @abstractmethod
    def write_triples(self, triples: Sequence[Triple]) -> None: ...

    @abstractmethod
    def remove_document(self, doc_id: str) -> None: ...

    @abstractmethod
    def stats(self) -> GraphStats: ...

    @abstractmethod
    def iter_triples(self) -> Iterator[Triple]: ...

    @abstractmethod
    def close(self) -> None: ...


def refuse_write_clause(cypher: str) -> None:
    """Raise :class:`ReadOnlyQueryError` unless ``cypher`` is a plain read query (see :mod:`cypher_guard`)."""
    reason = read_only_violation(cypher)
    if reason:
        raise ReadOnlyQueryError(
            f"query refused: {reason}; `kgbuild query` is read-only unless --write is given"
        )
