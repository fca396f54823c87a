"""The graph-store interface shared by the embedded (LadybugDB) and Neo4j stores.

Graph model, identical in both stores:

* ``(:Document {id, path, hash})``
* ``(:Entity {key, name, type, aliases})`` where ``key = normalised name without a leading article | type``
  and ``aliases`` lists the other spellings that resolve to it
* ``(:Alias {id, spelling, type, canonical, reason, score, doc_id, undone})``: one resolution
  decision (:class:`kgbuild.types.Alias`); edges attach to canonical entities, and evidence keeps the
  spellings (``head_text``/``tail_text``), so a merge can be undone exactly
* ``(:Entity)-[:<RELTYPE> {confidence, model, support, reviewed, doc_ids, sentence_ids}]->(:Entity)``:
  one edge per (head, label, tail), its properties derived from its evidence with :func:`edge_properties`,
  so both stores agree on every value.
* ``(:Evidence {id, head_key, rel_type, tail_key, doc_id, sentence_id, confidence, model, reviewed_by, record})``:
  one record per supporting sentence of an edge (:mod:`kgbuild.graph.evidence_records`), ``record`` the
  canonical JSON of :class:`kgbuild.types.Evidence`; adding one never rewrites the others.
* the lexical graph (:mod:`kgbuild.graph.lexical`): ``(:Document)-[:HAS_SENTENCE]->(:Sentence)`` and
  ``(:Entity)-[:MENTIONED_IN]->(:Sentence)``, derived from the evidence; ``sentence_ids`` names the
  edge's ``Sentence`` nodes.

Writes are per document and atomic: replacing a document removes its old evidence (and edges
left with none), then merges nodes first and edges second, all in one transaction.

The shared half of both stores lives in :mod:`kgbuild.graph.base`, their shared Cypher in
:mod:`kgbuild.graph.queries`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from kgbuild.errors import ReadOnlyQueryError, StoreError  # noqa: F401  (re-exported)
from kgbuild.graph.evidence_records import Support, aggregate
from kgbuild.schema import RelationSchema
from kgbuild.types import Alias, Entity, Evidence, Triple


@dataclass(frozen=True)
class DocumentRecord:
    id: str
    path: str
    hash: str


@dataclass(frozen=True)
class StoredEntity:
    key: str
    name: str
    type: str


@dataclass(frozen=True)
class FactRow:
    """One fact edge with its evidence records as stored (unparsed: the reader decides what an unreadable record
    is)."""

    head_key: str
    head_name: str
    head_type: str
    rel_type: str
    tail_key: str
    tail_name: str
    tail_type: str
    evidence: Any
    label: str = ""  # the schema's label for ``rel_type`` (the type itself where the schema lacks it)


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]


@dataclass
class GraphStats:
    nodes: dict[str, int] = field(default_factory=dict)
    relationships: dict[str, int] = field(default_factory=dict)  # the facts, by relationship type
    lexical: dict[str, int] = field(default_factory=dict)  # Sentence nodes, HAS_SENTENCE and MENTIONED_IN links


@dataclass(frozen=True)
class EdgeKey:
    head_key: str
    rel_type: str
    tail_key: str


def edge_properties(evidence: Iterable[Evidence]) -> dict[str, Any]:
    """Derive an edge's stored properties from its evidence (deterministic, order-free)."""
    return aggregate(Support.of(e) for e in set(evidence))


def group_triples(
    triples: Iterable[Triple], schema: RelationSchema
) -> tuple[dict[str, Entity], dict[EdgeKey, list[Evidence]]]:
    """Entities by key (first spelling wins) and evidence by edge; ``no_relation`` is dropped."""
    entities: dict[str, Entity] = {}
    edges: dict[EdgeKey, list[Evidence]] = {}
    types = schema.relationship_types
    for triple in triples:
        if triple.label == schema.no_relation:
            continue
        if triple.label not in types:
            raise StoreError(f"label {triple.label!r} is not in relation schema {schema.name!r}")
        entities.setdefault(triple.head.key, triple.head)
        entities.setdefault(triple.tail.key, triple.tail)
        key = EdgeKey(triple.head.key, types[triple.label], triple.tail.key)
        edges.setdefault(key, []).append(triple.evidence)
    return entities, edges


class QueryTimeoutError(StoreError):
    """A user query stopped at its time limit (by the database, or by killing the process running it)."""

    def __init__(self, timeout: float | None) -> None:
        super().__init__(f"query stopped after its time limit of {timeout or 0:g} s")


@runtime_checkable
class GraphStore(Protocol):
    """What every store offers; the pipeline and CLI only speak to this."""

    name: str

    def ensure_schema(self, schema: RelationSchema) -> None:
        """Create node/relationship tables, constraints and indexes; safe to repeat."""

    def documents(self) -> dict[str, DocumentRecord]:
        """Stored documents by path, used to skip unchanged files on re-ingest."""

    def replace_document(
        self, document: DocumentRecord, triples: Sequence[Triple], previous: DocumentRecord | None = None,
        aliases: Sequence[Alias] | None = None,
    ) -> None:
        """Atomically drop ``previous``'s evidence, alias decisions and node, then write ``document``, its
        alias decisions (None: keep those stored) and its triples (ends as written; the store resolves them)."""

    def write_triples(self, triples: Sequence[Triple]) -> None:
        """Merge triples (nodes first, then edges) without touching documents; used for bulk loads."""

    def remove_document(self, doc_id: str) -> None:
        """Atomically drop the document's evidence (and edges left with none), alias decisions and node."""

    def aliases(self) -> list[Alias]:
        """Every resolution decision, undone ones included."""

    def merge_aliases(self, records: Sequence[Alias]) -> list[Alias]:
        """Add decisions (cross-document merges) and move the edges they concern; returns those that changed
        anything."""

    def undo_alias(self, spelling_key: str, canonical_key: str | None = None) -> list[Alias]:
        """Split a merged spelling back into its own entity, for good; returns the records undone."""

    def review(self, triple: Triple, label: str | None, reviewed_by: str, reviewed_at: str) -> None:
        """Relabel (or accept) one stored triple as reviewed, or take it out of the graph (``label`` None)."""

    def query(self, cypher: str, params: dict[str, Any] | None = None, write: bool = False,
              timeout: float | None = None) -> QueryResult:
        """Run user Cypher with parameters; read-only unless ``write``; stopped after ``timeout`` seconds."""

    def stats(self) -> GraphStats: ...

    def entities(self) -> list[StoredEntity]:
        """Every entity node (key, canonical name, type), by key."""

    def iter_triples(self) -> Iterator[Triple]:
        """Every stored (head, label, tail, evidence) with the label as written in the schema."""

    def facts_page(self, skip: int = 0, limit: int | None = None,
                   min_confidence: float = 0.0) -> tuple[list[FactRow], int]:
        """Fact edges at or above ``min_confidence``, those with sentences nobody reviewed yet first, least
        confident first, from ``skip`` (at most ``limit``); and how many edges pass the filter."""

    def facts_touching(self, keys: Sequence[str]) -> list[FactRow]:
        """Every fact edge with an end in ``keys``."""

    def close(self) -> None: ...


__all__ = [
    "DocumentRecord",
    "EdgeKey",
    "FactRow",
    "GraphStats",
    "GraphStore",
    "QueryResult",
    "QueryTimeoutError",
    "ReadOnlyQueryError",
    "StoreError",
    "StoredEntity",
    "edge_properties",
    "group_triples",
]
