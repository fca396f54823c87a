"""The store contract: every test runs against the embedded (LadybugDB) store and a real Neo4j 5.

Faithful (what is written reads back, evidence and edge properties included), idempotent, atomic
per document, injection-proof, and read-only for queries without ``write``. Store-specific
behaviour (connection errors, native read-only modes, batching, counters) stays in
test_embedded_store.py and test_neo4j_store.py.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from graph_cases import (
    GUARD_ATTACKS,
    HOSTILE_NAMES,
    LABELS,
    WRITE_QUERIES,
    canonical,
    edges,
    expected_edges,
    fail_on_edge_batch,
    make_triple,
    stored,
    triple_batches,
    wipe,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kgbuild.graph.base import BaseGraphStore
from kgbuild.graph.store import DocumentRecord, GraphStore, ReadOnlyQueryError, StoreError, edge_properties
from kgbuild.types import Evidence, Triple


@pytest.fixture
def store(both_stores: GraphStore) -> GraphStore:
    return both_stores


def snapshot(store: GraphStore) -> tuple[object, ...]:
    return stored(store), edges(store), store.documents(), store.stats()


def test_store_speaks_the_shared_interface(store: GraphStore) -> None:
    assert isinstance(store, GraphStore) and isinstance(store, BaseGraphStore)


# -- round trips --------------------------------------------------------------------------
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=triple_batches(LABELS))
def test_written_equals_extracted(store: GraphStore, batch: list[Triple]) -> None:
    wipe(store)
    store.write_triples(batch)
    assert stored(store) == canonical(batch)
    assert edges(store) == expected_edges(batch)
    store.write_triples(batch)  # idempotent
    assert stored(store) == canonical(batch) and edges(store) == expected_edges(batch)
    # One edge per (head, label, tail), whatever the number of supporting sentences.
    distinct = {(t.head.key, t.label, t.tail.key) for t in batch}
    assert sum(store.stats().relationships.values()) == len(distinct)


def test_edge_properties_summarise_evidence(store: GraphStore) -> None:
    a = make_triple("Ann", "works_for", "Acme", doc="d1", confidence=0.4)
    b = make_triple("ann", "works_for", "ACME", doc="d2", sentence="Another one.", confidence=0.8)
    store.write_triples([a, b])
    result = store.query("MATCH (h:Entity)-[r:WORKS_FOR]->(t:Entity) RETURN h.name, r.confidence, r.support, r.doc_ids")
    assert result.rows == [["Ann", 0.8, 2, ["d1", "d2"]]]
    assert edge_properties([a.evidence, b.evidence])["confidence"] == 0.8


def test_evidence_from_later_writes_is_unioned(store: GraphStore) -> None:
    first = make_triple("Ann", "works_for", "Acme", doc="d1", confidence=0.4)
    second = make_triple("ann", "works_for", "ACME", doc="d2", sentence="Ann joined Acme.", confidence=0.8)
    store.write_triples([first])
    store.write_triples([second, first])
    assert edges(store) == expected_edges([first, second])
    props = next(iter(edges(store).values()))
    assert props["support"] == 2 and props["confidence"] == 0.8 and props["doc_ids"] == ["d1", "d2"]


def test_ingesting_a_document_twice_is_identical(store: GraphStore) -> None:
    doc = DocumentRecord("d1", "/x/a.txt", "h1")
    triples = [make_triple("Ann", "works_for", "Acme", doc="d1"), make_triple("Ann", "lives_in", "Oslo", doc="d1",
                                                                              tail_type="GPE", index=1)]
    store.replace_document(doc, triples)
    before = snapshot(store)
    store.replace_document(doc, triples, previous=doc)
    assert snapshot(store) == before


def test_replace_document_swaps_only_its_evidence(store: GraphStore) -> None:
    old = DocumentRecord("doc-old", "/x/a.txt", "h1")
    shared_a = make_triple("Ann", "works_for", "Acme", doc="doc-old")
    only_a = make_triple("Bob", "works_for", "Acme", doc="doc-old")
    shared_b = make_triple("Ann", "works_for", "Acme", doc="doc-b", sentence="B says so.")
    store.replace_document(old, [shared_a, only_a])
    store.replace_document(DocumentRecord("doc-b", "/x/b.txt", "h2"), [shared_b])
    fresh = make_triple("Cat", "lives_in", "Oslo", doc="doc-new", tail_type="GPE")
    store.replace_document(DocumentRecord("doc-new", "/x/a.txt", "h3"), [fresh], previous=old)
    assert stored(store) == canonical([shared_b, fresh])
    assert edges(store) == expected_edges([shared_b, fresh])  # Bob's edge had only old evidence: gone
    assert set(store.documents()) == {"/x/a.txt", "/x/b.txt"}
    assert store.documents()["/x/a.txt"].id == "doc-new"


def test_remove_document_drops_only_its_evidence(store: GraphStore) -> None:
    shared_a = make_triple("Ann", "works_for", "Acme", doc="doc-a")
    only_a = make_triple("Bob", "works_for", "Acme", doc="doc-a")
    shared_b = make_triple("Ann", "works_for", "Acme", doc="doc-b", sentence="B says so.")
    store.replace_document(DocumentRecord("doc-a", "/x/a.txt", "h1"), [shared_a, only_a])
    store.replace_document(DocumentRecord("doc-b", "/x/b.txt", "h2"), [shared_b])
    store.remove_document("doc-a")
    assert stored(store) == canonical([shared_b])
    assert edges(store) == expected_edges([shared_b])  # Bob's edge had only doc-a evidence: gone
    assert set(store.documents()) == {"/x/b.txt"}
    assert store.stats().relationships == {"WORKS_FOR": 1}
    assert store.stats().nodes["Entity"] == 3  # entities stay, even Bob's
    after = snapshot(store)
    store.remove_document("doc-a")  # gone already: nothing changes
    store.remove_document("no-such-doc")
    assert snapshot(store) == after
    store.remove_document("doc-b")
    assert stored(store) == set() and edges(store) == {} and store.documents() == {}
    assert store.stats().relationships == {}


# -- atomicity ----------------------------------------------------------------------------
def test_failed_write_leaves_nothing_half_written(store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    good = make_triple("Ann", "works_for", "Acme", doc="d0")
    store.replace_document(DocumentRecord("d0", "/d0", "h0"), [good])
    before = snapshot(store)
    fail_on_edge_batch(store, monkeypatch, which=1)
    with pytest.raises(RuntimeError, match="simulated"):
        store.replace_document(DocumentRecord("d1", "/d1", "h1"), [make_triple("Zed", "works_for", "Inc", doc="d1")])
    assert snapshot(store) == before  # no Zed, no Inc, no Document d1
    assert "/d1" not in store.documents()
    monkeypatch.undo()
    store.replace_document(DocumentRecord("d1", "/d1", "h1"), [make_triple("Zed", "works_for", "Initech", doc="d1")])
    assert "/d1" in store.documents()


def test_failed_document_write_keeps_the_previous_version(store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    old = DocumentRecord("d-old", "/x/a.txt", "h1")
    store.replace_document(old, [make_triple("Ann", "works_for", "Acme", doc="d-old")])
    before = snapshot(store)
    fail_on_edge_batch(store, monkeypatch, which=1)
    new = DocumentRecord("d-new", "/x/a.txt", "h2")
    with pytest.raises(RuntimeError, match="simulated"):
        store.replace_document(new, [make_triple("Bob", "works_for", "Initech", doc="d-new")], previous=old)
    assert snapshot(store) == before


# -- hostile input and read-only queries --------------------------------------------------
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=lambda n: n[:24])
def test_cypher_in_names_is_stored_verbatim(store: GraphStore, name: str) -> None:
    bystander = make_triple("Ann", "works_for", "Acme", doc="d0")
    hostile = make_triple(name, "works_for", name + " Org", doc="d1", sentence=name)
    for write in (lambda: store.replace_document(DocumentRecord("d1", name, name), [bystander, hostile]),
                  lambda: store.write_triples([bystander, hostile])):
        write()
        assert stored(store) == canonical([bystander, hostile])
        assert store.query("MATCH (e:Entity) WHERE e.name = $n RETURN e.name", {"n": name}).rows == [[name]]
        assert store.documents()[name].hash == name
        assert store.stats().nodes == {"Document": 1, "Entity": 4, "Evidence": 2}


@pytest.mark.parametrize("cypher", WRITE_QUERIES)
def test_query_refuses_writes_without_flag(store: GraphStore, cypher: str) -> None:
    store.write_triples([make_triple("Ann", "works_for", "Acme")])
    before = stored(store)
    with pytest.raises(ReadOnlyQueryError, match="--write"):
        store.query(cypher)
    assert stored(store) == before


@pytest.mark.parametrize("cypher", GUARD_ATTACKS)
def test_guard_attacks_are_refused_before_the_database(store: GraphStore, cypher: str) -> None:
    """The attack list of test_cypher_guard on a real database: refused, nothing read, nothing changed
    (LadybugDB's read-only mode alone lets LOAD FROM read host files, and READ_CSV_SERIAL crashes it)."""
    store.write_triples([make_triple("Ann", "works_for", "Acme")])
    before = snapshot(store)
    with pytest.raises(ReadOnlyQueryError, match="--write"):
        store.query(cypher)
    assert snapshot(store) == before


def test_aliases_named_like_keywords_are_read_queries_in_backticks(store: GraphStore) -> None:
    store.write_triples([make_triple("Ann", "works_for", "Acme")])
    rows = store.query("MATCH (e:Entity) WHERE e.name = $n RETURN e.name AS `set`", {"n": "Ann"}).rows
    assert rows == [["Ann"]]
    with pytest.raises(ReadOnlyQueryError, match="backticks"):
        store.query("MATCH (e:Entity) WHERE e.name = $n RETURN e.name AS set", {"n": "Ann"})


def test_strings_in_query_are_not_mistaken_for_writes(store: GraphStore) -> None:
    store.write_triples([make_triple("Create Delete", "works_for", "Set Merge")])
    rows = store.query("MATCH (e:Entity) WHERE e.name = 'Create Delete' RETURN e.name").rows
    assert rows == [["Create Delete"]]


def test_unknown_label_is_refused(store: GraphStore) -> None:
    with pytest.raises(StoreError, match="not in relation schema"):
        store.write_triples([make_triple("Ann", "per:employee_of", "Acme")])
    with pytest.raises(StoreError, match="not in relation schema"):
        store.replace_document(DocumentRecord("d1", "/d1", "h1"), [make_triple("Ann", "per:employee_of", "Acme")])
    assert stored(store) == set() and store.documents() == {}


@settings(max_examples=300, deadline=None)
@given(doc=st.text(), sentence=st.text(), model=st.text(), numbers=st.lists(st.integers(), min_size=5, max_size=5),
       confidence=st.one_of(st.floats(), st.integers(min_value=0, max_value=1)))
def test_evidence_json_is_exactly_the_canonical_json_dump(doc: str, sentence: str, model: str, numbers: list[int],
                                                          confidence: float) -> None:
    """Stores compare evidence by its JSON text, so the fast encoder must equal the generic one byte for byte."""
    evidence = Evidence(doc, numbers[0], sentence, *numbers[1:], confidence=confidence, model=model)
    generic = json.dumps(dataclasses.asdict(evidence), sort_keys=True, ensure_ascii=False)
    assert evidence.to_json() == generic
    if confidence == confidence:  # NaN never equals itself, so only the text can be compared
        assert Evidence.from_json(evidence.to_json()) == evidence


def test_entities_are_listed_without_the_user_query_path(store: GraphStore, monkeypatch: pytest.MonkeyPatch) -> None:
    from kgbuild.graph.store import StoredEntity

    store.write_triples([make_triple("Ann Lee", "works_for", "Acme"), make_triple("Bob Roe", "works_for", "Acme")])

    def no_user_queries(*args: object, **kwargs: object) -> None:
        raise AssertionError("entities() went through query()")

    monkeypatch.setattr(store, "query", no_user_queries)
    listed = store.entities()
    assert sorted((e.name, e.type) for e in listed) == [("Acme", "ORG"), ("Ann Lee", "PERSON"), ("Bob Roe", "PERSON")]
    assert all(isinstance(e, StoredEntity) for e in listed) and [e.key for e in listed] == sorted(e.key for e in listed)
