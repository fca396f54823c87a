"""The Neo4j store against a real Neo4j 5 server (started by the session fixture ``neo4j_config``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from graph_cases import HOSTILE_NAMES, WRITE_QUERIES, canonical, make_triple, stored, triple_batches
from hypothesis import HealthCheck, given, settings
from pydantic import SecretStr
from typer.testing import CliRunner

from kgbuild.cli import app
from kgbuild.config import Neo4jConfig
from kgbuild.graph.neo4j_store import Neo4jStore, WriteCounters, _rel_type
from kgbuild.graph.store import DocumentRecord, ReadOnlyQueryError, StoreError, edge_properties, group_triples
from kgbuild.relations.schema import RelationSchema
from kgbuild.types import Triple

pytestmark = pytest.mark.neo4j

SCHEMA = RelationSchema.load("default")
LABELS = list(SCHEMA.labels)


# -- helpers ------------------------------------------------------------------------------
def wipe(store: Neo4jStore) -> None:
    store.query("MATCH (n) DETACH DELETE n", write=True)


def edges(store: Neo4jStore) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Every stored edge's properties by (head key, type, tail key)."""
    rows = store.query("MATCH (h:Entity)-[r]->(t:Entity) RETURN h.key, type(r), t.key, properties(r)").rows
    return {(h, rel, t): props for h, rel, t, props in rows}


def expected_edges(triples: list[Triple]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """What the embedded store would hold: ``edge_properties`` over each edge's evidence set."""
    _, grouped = group_triples(triples, SCHEMA)
    return {(k.head_key, k.rel_type, k.tail_key): edge_properties(ev) for k, ev in grouped.items()}


def written_by(store: Neo4jStore, action: Any, *args: Any) -> WriteCounters:
    """The committed write counters of one store call."""
    before = store.counters.copy()
    action(*args)
    return store.counters.since(before)


def fail_on_edge_batch(store: Neo4jStore, monkeypatch: pytest.MonkeyPatch, which: int) -> None:
    """Make the ``which``-th edge batch crash after it has written, inside its transaction."""
    calls = {"n": 0}
    real = store._merge_edges

    def flaky(tx: Any, rel_type: str, items: Any) -> None:
        calls["n"] += 1
        real(tx, rel_type, items)
        if calls["n"] == which:
            raise RuntimeError("simulated crash mid-batch")

    monkeypatch.setattr(store, "_merge_edges", flaky)


@pytest.fixture
def store(neo4j_config: Neo4jConfig) -> Iterator[Neo4jStore]:
    graph = Neo4jStore(neo4j_config)
    graph.ensure_schema(SCHEMA)
    wipe(graph)
    yield graph
    graph.close()


# -- schema -------------------------------------------------------------------------------
def test_schema_setup_is_repeatable(store: Neo4jStore) -> None:
    store.ensure_schema(SCHEMA)
    store.ensure_schema(SCHEMA)
    constraints = {row[0] for row in store.query("SHOW CONSTRAINTS YIELD name RETURN name").rows}
    indexes = {row[0] for row in store.query("SHOW INDEXES YIELD name RETURN name").rows}
    assert {"kgbuild_entity_key", "kgbuild_document_id"} <= constraints
    assert {"kgbuild_document_path", "kgbuild_entity_name", "kgbuild_entity_type"} <= indexes
    assert store.server_version.startswith("5.")


@pytest.mark.parametrize("rel_type", ["WORKS_FOR]->() DETACH DELETE r //", "A B", "`X`", "works_for", ""])
def test_only_plain_identifiers_reach_a_statement(rel_type: str) -> None:
    with pytest.raises(StoreError, match="not a plain identifier"):
        _rel_type(rel_type)


# -- round trips --------------------------------------------------------------------------
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=triple_batches(LABELS))
def test_written_equals_extracted(store: Neo4jStore, batch: list[Triple]) -> None:
    wipe(store)
    store.write_triples(batch)
    assert stored(store) == canonical(batch)
    assert edges(store) == expected_edges(batch)
    rerun = written_by(store, store.write_triples, batch)
    assert rerun == WriteCounters()  # nothing created, nothing rewritten
    assert stored(store) == canonical(batch) and edges(store) == expected_edges(batch)


def test_evidence_from_later_writes_is_unioned(store: Neo4jStore) -> None:
    first = make_triple("Ann", "works_for", "Acme", doc="d1", confidence=0.4)
    second = make_triple("ann", "works_for", "ACME", doc="d2", sentence="Ann joined Acme.", confidence=0.8)
    store.write_triples([first])
    store.write_triples([second, first])
    assert edges(store) == expected_edges([first, second])
    props = next(iter(edges(store).values()))
    assert props["support"] == 2 and props["confidence"] == 0.8 and props["doc_ids"] == ["d1", "d2"]


def test_ingesting_a_document_twice_is_identical(store: Neo4jStore) -> None:
    doc = DocumentRecord("d1", "/x/a.txt", "h1")
    triples = [make_triple("Ann", "works_for", "Acme", doc="d1"), make_triple("Ann", "lives_in", "Oslo", doc="d1",
                                                                              tail_type="GPE", index=1)]
    store.replace_document(doc, triples)
    snapshot = (stored(store), edges(store), store.documents(), store.stats())
    store.replace_document(doc, triples, previous=doc)
    assert (stored(store), edges(store), store.documents(), store.stats()) == snapshot


def test_replace_document_swaps_only_its_evidence(store: Neo4jStore) -> None:
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
    assert store.documents()["/x/a.txt"].id == "doc-new" and len(store.documents()) == 2


def test_failed_document_write_keeps_the_previous_version(store: Neo4jStore, monkeypatch: pytest.MonkeyPatch) -> None:
    old = DocumentRecord("d-old", "/x/a.txt", "h1")
    old_triples = [make_triple("Ann", "works_for", "Acme", doc="d-old")]
    store.replace_document(old, old_triples)
    before = (stored(store), edges(store), store.documents(), store.stats())
    fail_on_edge_batch(store, monkeypatch, which=1)
    new = DocumentRecord("d-new", "/x/a.txt", "h2")
    with pytest.raises(RuntimeError, match="simulated"):
        store.replace_document(new, [make_triple("Bob", "works_for", "Initech", doc="d-new")], previous=old)
    assert (stored(store), edges(store), store.documents(), store.stats()) == before


def test_failed_batch_leaves_nothing_half_written_and_rerun_completes(store: Neo4jStore,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    triples = [make_triple(f"Person {i}", "works_for", f"Org {i}", doc="d") for i in range(6)]
    store.batch_size = 2
    fail_on_edge_batch(store, monkeypatch, which=2)
    with pytest.raises(RuntimeError, match="simulated"):
        store.write_triples(triples)
    written = stored(store)
    assert len(written) == 2 and written < canonical(triples)  # batch 1 committed, batch 2 rolled back whole
    assert store.stats().relationships == {"WORKS_FOR": 2} and store.stats().nodes["Entity"] == 12
    monkeypatch.undo()
    store.write_triples(triples)
    assert stored(store) == canonical(triples) and edges(store) == expected_edges(triples)


def test_constraint_conflict_is_reported(store: Neo4jStore) -> None:
    store.query("DROP CONSTRAINT kgbuild_entity_key IF EXISTS", write=True)
    store.query("CREATE (:Entity {key: 'dup|X'}), (:Entity {key: 'dup|X'})", write=True)
    with pytest.raises(StoreError, match="constraint|Constraint"):
        store.ensure_schema(SCHEMA)
    wipe(store)
    store.ensure_schema(SCHEMA)


# -- hostile input and read-only queries --------------------------------------------------
@pytest.mark.parametrize("name", HOSTILE_NAMES, ids=lambda n: n[:24])
def test_cypher_in_names_is_stored_verbatim(store: Neo4jStore, name: str) -> None:
    bystander = make_triple("Ann", "works_for", "Acme", doc="d0")
    hostile = make_triple(name, "works_for", name + " Org", doc="d1", sentence=name)
    store.replace_document(DocumentRecord("d1", name, name), [bystander, hostile])
    assert stored(store) == canonical([bystander, hostile])
    assert store.query("MATCH (e:Entity) WHERE e.name = $n RETURN e.name", {"n": name}).rows == [[name]]
    assert store.documents()[name].hash == name
    assert store.stats().nodes == {"Document": 1, "Entity": 4}


@pytest.mark.parametrize("cypher", WRITE_QUERIES)
def test_query_refuses_write_clauses(store: Neo4jStore, cypher: str) -> None:
    store.write_triples([make_triple("Ann", "works_for", "Acme")])
    before = stored(store)
    with pytest.raises(ReadOnlyQueryError):
        store.query(cypher)
    assert stored(store) == before


def test_write_procedures_are_refused_by_the_read_transaction(store: Neo4jStore) -> None:
    store.write_triples([make_triple("Ann", "works_for", "Acme")])
    before = (stored(store), store.stats())
    with pytest.raises(ReadOnlyQueryError, match="--write"):
        store.query("CALL db.createLabel('Injected')")
    labels = {row[0] for row in store.query("CALL db.labels() YIELD label RETURN label").rows}
    assert "Injected" not in labels and (stored(store), store.stats()) == before


def test_query_results_are_json_friendly(store: Neo4jStore) -> None:
    triple = make_triple("Ann", "works_for", "Acme")
    store.write_triples([triple])
    result = store.query("MATCH p = (a:Entity {name: $n})-[r]->(b) RETURN a, r, p, date('2024-01-02') AS d",
                         {"n": "Ann"})
    assert result.columns == ["a", "r", "p", "d"]
    node, rel, path, day = result.rows[0]
    assert node == {"key": triple.head.key, "name": "Ann", "type": "PERSON", "_label": "Entity"}
    assert rel == {**expected_edges([triple])[(triple.head.key, "WORKS_FOR", triple.tail.key)],
                   "type": "WORKS_FOR", "_label": "WORKS_FOR"}
    assert path["relationships"] == [rel] and len(path["nodes"]) == 2 and day == "2024-01-02"
    json.dumps(result.rows)


# -- connection errors --------------------------------------------------------------------
def test_wrong_password_is_one_clear_line(neo4j_config: Neo4jConfig) -> None:
    wrong = neo4j_config.model_copy(update={"password": SecretStr("definitely-wrong-pw")})
    with pytest.raises(StoreError) as info:
        Neo4jStore(wrong)
    message = str(info.value)
    assert "authentication failed" in message and "definitely-wrong-pw" not in message and "\n" not in message


def test_unreachable_server(neo4j_config: Neo4jConfig) -> None:
    down = neo4j_config.model_copy(update={"uri": "bolt://127.0.0.1:9"})
    with pytest.raises(StoreError, match="unreachable"):
        Neo4jStore(down)


def test_neo4j_older_than_5_is_refused(neo4j_config: Neo4jConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Neo4j 4 server is at hand, so the version answer of the real server is rewritten."""
    import neo4j

    real = neo4j.Driver.execute_query

    def old_version(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        if "dbms.components" in str(query):
            return neo4j.EagerResult([{"name": "Neo4j Kernel", "versions": ["4.4.30"]}], None, None)
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(neo4j.Driver, "execute_query", old_version)
    with pytest.raises(StoreError, match="version 4.4.30; kgbuild needs Neo4j 5"):
        Neo4jStore(neo4j_config)


def test_cli_against_neo4j(store: Neo4jStore, neo4j_config: Neo4jConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    store.replace_document(DocumentRecord("d1", "/a", "h"), [make_triple("Ann", "works_for", "Acme", doc="d1")])
    assert neo4j_config.password is not None
    password = neo4j_config.password.get_secret_value()
    monkeypatch.delenv("NEO4J_URI", raising=False)
    monkeypatch.setenv("NEO4J_PASSWORD", password)
    runner = CliRunner()
    base = ["--store", "neo4j", "--neo4j-uri", neo4j_config.uri, "--neo4j-user", neo4j_config.user]
    result = runner.invoke(app, ["query", "MATCH (a:Entity)-[r]->(b:Entity) RETURN a.name, type(r), b.name", *base])
    assert result.exit_code == 0 and "Ann" in result.output and "WORKS_FOR" in result.output
    result = runner.invoke(app, ["query", "MATCH (n) DETACH DELETE n", *base])
    assert result.exit_code == 1 and "--write" in result.output
    result = runner.invoke(app, ["stats", *base])
    assert result.exit_code == 0 and "WORKS_FOR" in result.output
    monkeypatch.setenv("NEO4J_PASSWORD", "not-the-password")
    result = runner.invoke(app, ["stats", *base])
    assert result.exit_code == 1 and "authentication failed" in result.output
    assert "not-the-password" not in result.output and password not in result.output
