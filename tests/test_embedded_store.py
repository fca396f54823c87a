"""The embedded LadybugDB store: faithful, idempotent, atomic, injection-proof, read-only queries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graph_cases import HOSTILE_NAMES, WRITE_QUERIES, canonical, make_triple, stored, triple_batches
from hypothesis import HealthCheck, given, settings

from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.store import DocumentRecord, ReadOnlyQueryError, StoreError, edge_properties
from kgbuild.relations.schema import RelationSchema

SCHEMA = RelationSchema.load("default")
LABELS = list(SCHEMA.labels)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    graph = EmbeddedStore(tmp_path / "graph.lbug")
    graph.ensure_schema(SCHEMA)
    yield graph
    graph.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=triple_batches(LABELS))
def test_written_equals_extracted(tmp_path_factory: pytest.TempPathFactory, batch: list[Any]) -> None:
    graph = EmbeddedStore(tmp_path_factory.mktemp("prop") / "g.lbug")
    try:
        graph.ensure_schema(SCHEMA)
        graph.write_triples(batch)
        assert stored(graph) == canonical(batch)
        graph.write_triples(batch)  # idempotent
        assert stored(graph) == canonical(batch)
        # One edge per (head, label, tail), whatever the number of supporting sentences.
        edges = {(t.head.key, t.label, t.tail.key) for t in batch}
        assert sum(graph.stats().relationships.values()) == len(edges)
    finally:
        graph.close()


def test_edge_properties_summarise_evidence(store: EmbeddedStore) -> None:
    a = make_triple("Ann", "works_for", "Acme", doc="d1", confidence=0.4)
    b = make_triple("ann", "works_for", "ACME", doc="d2", sentence="Another one.", confidence=0.8)
    store.write_triples([a, b])
    result = store.query("MATCH (h:Entity)-[r:WORKS_FOR]->(t:Entity) RETURN h.name, r.confidence, r.support, r.doc_ids")
    assert result.rows == [["Ann", 0.8, 2, ["d1", "d2"]]]
    assert edge_properties([a.evidence, b.evidence])["confidence"] == 0.8


def test_replace_document_swaps_only_its_evidence(store: EmbeddedStore) -> None:
    old = DocumentRecord("doc-old", "/x/a.txt", "h1")
    other = DocumentRecord("doc-b", "/x/b.txt", "h2")
    shared_a = make_triple("Ann", "works_for", "Acme", doc="doc-old")
    only_a = make_triple("Bob", "works_for", "Acme", doc="doc-old")
    shared_b = make_triple("Ann", "works_for", "Acme", doc="doc-b", sentence="B says so.")
    store.replace_document(old, [shared_a, only_a])
    store.replace_document(other, [shared_b])
    new = DocumentRecord("doc-new", "/x/a.txt", "h3")
    fresh = make_triple("Cat", "lives_in", "Oslo", doc="doc-new", tail_type="GPE")
    store.replace_document(new, [fresh], previous=old)
    assert stored(store) == canonical([shared_b, fresh])
    assert set(store.documents()) == {"/x/a.txt", "/x/b.txt"}
    assert store.documents()["/x/a.txt"].id == "doc-new"


def test_failed_write_leaves_nothing_half_written(store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    good = make_triple("Ann", "works_for", "Acme", doc="d0")
    store.replace_document(DocumentRecord("d0", "/d0", "h0"), [good])
    before = stored(store), store.stats()

    def boom(*args: Any, **kwargs: Any) -> None:
        raise StoreError("simulated crash after nodes were merged")

    monkeypatch.setattr(store, "_set_edges", boom)
    with pytest.raises(StoreError):
        store.replace_document(DocumentRecord("d1", "/d1", "h1"), [make_triple("Zed", "works_for", "Inc", doc="d1")])
    assert (stored(store), store.stats()) == before  # no Zed, no Initech, no Document d1
    assert "/d1" not in store.documents()
    monkeypatch.undo()
    store.replace_document(DocumentRecord("d1", "/d1", "h1"), [make_triple("Zed", "works_for", "Initech", doc="d1")])
    assert "/d1" in store.documents()


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_cypher_in_names_is_stored_verbatim(store: EmbeddedStore, name: str) -> None:
    bystander = make_triple("Ann", "works_for", "Acme", doc="d0")
    hostile = make_triple(name, "works_for", name + " Org", doc="d1", sentence=name)
    store.write_triples([bystander, hostile])
    assert stored(store) == canonical([bystander, hostile])
    rows = store.query("MATCH (e:Entity) WHERE e.name = $name RETURN e.name", {"name": name}).rows
    assert rows == [[name]]


@pytest.mark.parametrize("cypher", WRITE_QUERIES)
def test_query_refuses_writes_without_flag(store: EmbeddedStore, cypher: str) -> None:
    store.write_triples([make_triple("Ann", "works_for", "Acme")])
    before = stored(store)
    with pytest.raises(ReadOnlyQueryError, match="--write"):
        store.query(cypher)
    assert stored(store) == before


def test_read_only_store_refuses_writes_natively(tmp_path: Path) -> None:
    path = tmp_path / "g.lbug"
    graph = EmbeddedStore(path)
    graph.ensure_schema(SCHEMA)
    graph.write_triples([make_triple("Ann", "works_for", "Acme")])
    graph.close()
    reader = EmbeddedStore(path, read_only=True)
    try:
        reader.ensure_schema(SCHEMA)
        with pytest.raises(StoreError):
            reader.query("CREATE (:Entity {key: 'k', name: 'n', type: 't'})", write=True)
        assert reader.query("MATCH (e:Entity) RETURN count(e)").rows == [[2]]
    finally:
        reader.close()


def test_strings_in_query_are_not_mistaken_for_writes(store: EmbeddedStore) -> None:
    store.write_triples([make_triple("Create Delete", "works_for", "Set Merge")])
    rows = store.query("MATCH (e:Entity) WHERE e.name = 'Create Delete' RETURN e.name").rows
    assert rows == [["Create Delete"]]


def test_unknown_label_is_refused(store: EmbeddedStore) -> None:
    with pytest.raises(StoreError, match="not in relation schema"):
        store.write_triples([make_triple("Ann", "per:employee_of", "Acme")])


def test_missing_graph_read_only_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="kgbuild ingest"):
        EmbeddedStore(tmp_path / "absent.lbug", read_only=True)
