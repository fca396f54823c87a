"""What the embedded and Neo4j stores do identically; each subclass keeps only its dialect.

:class:`BaseGraphStore` owns the schema bookkeeping, the read-only guard in front of user
queries, the relationship-type → label map used when reading triples back, and the preparation
of a write (``group_triples`` output as entity rows and edges grouped by relationship type).
A subclass supplies its DDL, how a user query runs, and how it reads and writes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from kgbuild.graph import evidence_records, queries
from kgbuild.graph.aliases import AliasTable
from kgbuild.graph.cypher_guard import check_param_depth, refuse_write_clause
from kgbuild.graph.evidence_records import FactId, records_by_fact
from kgbuild.graph.queries import READ_ENTITIES
from kgbuild.graph.store import (
    DocumentRecord,
    EdgeKey,
    FactRow,
    GraphStats,
    QueryResult,
    StoredEntity,
    StoreError,
    group_triples,
)
from kgbuild.schema import RelationSchema
from kgbuild.types import Alias, Entity, Evidence, Triple

EdgeItems = list[tuple[EdgeKey, list[Evidence]]]
Change = Callable[[list[Triple]], list[Triple]]


@dataclass(frozen=True)
class PreparedWrite:
    """Triples ready to write: entity rows for ``MERGE_ENTITIES``, then edges per relationship type."""

    entity_rows: list[dict[str, Any]]
    edges_by_type: dict[str, EdgeItems]


@dataclass(frozen=True)
class AliasUpdate:
    """A document's alias decisions as the store writes them: the records and the entities whose
    ``aliases`` property changes."""

    records: list[Alias] = field(default_factory=list)
    entity_aliases: list[dict[str, Any]] = field(default_factory=list)
    replaced_documents: list[str] = field(default_factory=list)  # whose stored decisions are deleted first


def entity_rows(entities: dict[str, Entity], aliases: AliasTable) -> list[dict[str, Any]]:
    return [{"key": k, "name": e.name, "type": e.type, "aliases": aliases.names_of(k)} for k, e in entities.items()]


def edges_by_type(edges: dict[EdgeKey, list[Evidence]]) -> dict[str, EdgeItems]:
    """Edges grouped by relationship type, each group in first-seen order."""
    grouped: dict[str, EdgeItems] = {}
    for key, evidence in edges.items():
        grouped.setdefault(key.rel_type, []).append((key, evidence))
    return grouped


class BaseGraphStore(ABC):
    """Shared half of every store; satisfies :class:`kgbuild.graph.store.GraphStore` with its subclasses."""

    name: str
    TYPE_FUNCTION = "type"  # how the dialect names a relationship's type in Cypher (LadybugDB: label)

    def __init__(self, read_only: bool = False) -> None:
        self.read_only = read_only
        self._schema: RelationSchema | None = None
        self._aliases = AliasTable()

    # -- schema -------------------------------------------------------------------------
    def ensure_schema(self, schema: RelationSchema) -> None:
        """Remember the schema (it maps relationship types back to labels) and create the store's
        tables/constraints/indexes; safe to repeat. A read-only store only learns the schema:
        query/stats/export never change the database, not even its indexes."""
        self._schema = schema
        if not self.read_only:
            self._create_schema(schema)
        self._aliases = AliasTable(self._read_aliases())

    @abstractmethod
    def _read_aliases(self) -> list[Alias]:
        """Every stored alias record (none in a graph written before entity resolution)."""

    def aliases(self) -> list[Alias]:
        """Every resolution decision, undone ones included, ordered by canonical entity."""
        return self._aliases.records()

    @abstractmethod
    def _create_schema(self, schema: RelationSchema) -> None:
        """The dialect's DDL for ``schema``; every statement idempotent."""

    def _require_schema(self) -> RelationSchema:
        if self._schema is None:
            raise StoreError("ensure_schema() must run before writing")
        return self._schema

    # -- reads --------------------------------------------------------------------------
    def query(self, cypher: str, params: dict[str, Any] | None = None, write: bool = False,
              timeout: float | None = None) -> QueryResult:
        """User Cypher with parameters. Without ``write``, a query outside the guard's read subset is refused
        here, before any database parser sees it; the store then lets its own parser and planner confirm a
        single read statement and runs it read-only. ``timeout`` (seconds) bounds the run."""
        params = params or {}
        check_param_depth(params)
        if not write:
            refuse_write_clause(cypher)
        return self._run_query(cypher, params, write, timeout)

    @abstractmethod
    def _run_query(self, cypher: str, params: dict[str, Any], write: bool, timeout: float | None) -> QueryResult:
        """Run user Cypher, natively read-only unless ``write`` (and then only a single statement whose plan
        holds read operators only), within ``timeout`` seconds; rows as plain JSON-friendly values."""

    def _labels_by_type(self) -> dict[str, str]:
        """Relationship type → schema label; empty before :meth:`ensure_schema`."""
        return {v: k for k, v in self._schema.relationship_types.items()} if self._schema else {}

    def _triples_from_rows(self, rows: Iterable[Sequence[Any]], records: dict[FactId, list[str]]
                           ) -> Iterator[Triple]:
        """One triple per evidence record of each (head key, head name, head type, rel type, tail key, tail name,
        tail type) edge row, labelled as in the schema (the raw type if the schema lacks it)."""
        labels = self._labels_by_type()
        for h_key, h_name, h_type, rel_type, t_key, t_name, t_type in rows:
            for item in records.get((h_key, rel_type, t_key), ()):
                yield Triple(Entity(h_name, h_type), labels.get(rel_type, rel_type),
                             Entity(t_name, t_type), Evidence.from_json(item))

    # -- writes -------------------------------------------------------------------------
    def prepare(self, triples: Sequence[Triple]) -> PreparedWrite:
        """Resolve each end to its canonical entity, then group against the schema (``no_relation``
        dropped, unknown labels refused; a fact through a pronoun link a user undid dropped too)."""
        table = self._aliases
        if table:
            triples = [table.canonical(t) for t in triples if not table.through_undone_link(t)]
        entities, edges = group_triples(triples, self._require_schema())
        return PreparedWrite(entity_rows(entities, table), edges_by_type(edges))

    def _document_aliases(self, doc_ids: Iterable[str], aliases: Sequence[Alias]) -> AliasUpdate:
        """Replace the decisions of ``doc_ids`` with ``aliases`` in the table (the caller restores it
        with :meth:`_restoring_aliases` if its transaction fails)."""
        table = self._aliases
        replaced = list(dict.fromkeys(doc_ids))
        keys = table.touched_keys(r for doc_id in replaced for r in table.document_records(doc_id))
        for doc_id in replaced:
            table.drop_document(doc_id)
        added = table.add(aliases)
        keys |= table.touched_keys(added)
        return AliasUpdate(added, self._alias_rows(keys), replaced)

    @staticmethod
    def _replaced_documents(document: DocumentRecord, previous: DocumentRecord | None,
                            aliases: Sequence[Alias] | None) -> list[str]:
        """Whose decisions a document write replaces: the previous version's, and the document's own unless
        ``aliases`` is None (a move of an unchanged document keeps them)."""
        return [*([previous.id] if previous else []), *([document.id] if aliases is not None else [])]

    def _alias_rows(self, keys: Iterable[str]) -> list[dict[str, Any]]:
        return [{"key": k, "aliases": self._aliases.names_of(k)} for k in sorted(keys)]

    def _restoring_aliases(self) -> _AliasRestore:
        return _AliasRestore(self)

    def merge_aliases(self, records: Sequence[Alias]) -> list[Alias]:
        """Add resolution decisions (cross-document merges) and rebuild the edges they move, in one
        transaction. Returns the records that changed anything."""
        self._require_schema()
        with self._restoring_aliases():
            keys = self._aliases.touched_keys(records)
            accepted = self._aliases.add(records)
            if accepted:
                self._relink(accepted, keys | self._aliases.touched_keys(accepted))
        return accepted

    def undo_alias(self, spelling_key: str, canonical_key: str | None = None) -> list[Alias]:
        """Split ``spelling_key`` back out of the entity it was merged into (``canonical_key`` only, if
        given); the split is remembered, so no later run merges it again."""
        self._require_schema()
        with self._restoring_aliases():
            keys = self._aliases.touched_keys(r for r in self._aliases.matching(spelling_key, canonical_key)
                                              if not r.undone)
            undone = self._aliases.undo(spelling_key, canonical_key)
            self._relink(undone, keys | self._aliases.touched_keys(undone) | {spelling_key})
        return undone

    def _rebuild_plan(self, stored: list[Triple], keys: set[str],
                      change: Change | None = None) -> tuple[PreparedWrite, list[str]]:
        """Stored triples around ``keys`` (after ``change``), resolved again under the current table; and the
        entities of ``keys`` left without any edge, to delete."""
        prepared = self.prepare([AliasTable.surface(t) for t in (change(stored) if change else stored)])
        kept = {row["key"] for row in prepared.entity_rows}
        return prepared, sorted(keys - kept)

    def review(self, triple: Triple, label: str | None, reviewed_by: str, reviewed_at: str) -> None:
        """A reviewer's decision on one stored triple (one evidence item): relabel it (the same label accepts
        it) with ``reviewed_by``/``reviewed_at`` on its evidence, or take it out of the graph (``label`` None)."""
        self._require_schema()

        def change(stored: list[Triple]) -> list[Triple]:
            kept = [t for t in stored if not (t.label == triple.label and t.evidence == triple.evidence)]
            if len(kept) == len(stored):
                raise StoreError("that triple is no longer in the graph; reload the page")
            if label is not None:
                evidence = replace(triple.evidence, reviewed_by=reviewed_by, reviewed_at=reviewed_at)
                kept.append(Triple(triple.head, label, triple.tail, evidence))
            return kept

        self._relink([], {triple.head.key, triple.tail.key}, change)

    @abstractmethod
    def _relink(self, records: list[Alias], keys: set[str], change: Change | None = None) -> None:
        """One transaction: store ``records``, delete the edges touching ``keys``, write them again (after
        ``change``) resolved under the current alias table, drop entities left without edges, refresh
        ``aliases``."""

    # -- the rest of GraphStore, per dialect --------------------------------------------
    @abstractmethod
    def documents(self) -> dict[str, DocumentRecord]: ...

    @abstractmethod
    def replace_document(
        self, document: DocumentRecord, triples: Sequence[Triple], previous: DocumentRecord | None = None,
        aliases: Sequence[Alias] | None = None,
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
    def _rows(self, cypher: str, params: dict[str, Any] | None = None) -> list[list[Any]]:
        """kgbuild's own read, columns in ``RETURN`` order: not a user query, so no guard and no child process."""

    def facts_page(self, skip: int = 0, limit: int | None = None,
                   min_confidence: float = 0.0) -> tuple[list[FactRow], int]:
        params = {"min": float(min_confidence), "skip": int(skip), "limit": int(limit or 0)}
        rows = self._rows(queries.facts_page(self.TYPE_FUNCTION, limit is not None), params)
        return self._fact_rows(rows), int(self._rows(queries.COUNT_FACTS, params)[0][0])

    def facts_touching(self, keys: Sequence[str]) -> list[FactRow]:
        return self._fact_rows(self._rows(queries.facts_touching(self.TYPE_FUNCTION), {"keys": list(keys)}))

    def _fact_rows(self, rows: list[list[Any]]) -> list[FactRow]:
        """Edge rows with their evidence records (one read of the records of the rows' heads)."""
        labels = self._labels_by_type()
        heads = sorted({row[0] for row in rows})
        records = records_by_fact(self._rows(evidence_records.RECORDS_OF_HEADS, {"heads": heads})) if heads else {}
        return [FactRow(h, hn, ht, rel, t, tn, tt, records.get((h, rel, t), []), labels.get(rel, rel))
                for h, hn, ht, rel, t, tn, tt in rows]

    def entities(self) -> list[StoredEntity]:
        return [StoredEntity(key, name, type_) for key, name, type_ in self._rows(READ_ENTITIES)]

    @abstractmethod
    def close(self) -> None: ...


class _AliasRestore:
    """When the write it guards fails (rolled back), the alias table is read again from the database."""

    def __init__(self, store: BaseGraphStore) -> None:
        self.store = store

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            try:
                self.store._aliases = AliasTable(self.store._read_aliases())
            except Exception:  # noqa: BLE001  (the store is gone too: keep the first error, forget the table)
                self.store._aliases = AliasTable()
