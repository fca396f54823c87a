"""The Neo4j store against a real Neo4j 5 server (started by the session fixture)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from graph_cases import HOSTILE_NAMES, WRITE_QUERIES, canonical, make_triple, stored, triple_batches
from hypothesis import HealthCheck, given, settings
from pydantic import SecretStr
from typer.testing import CliRunner

from kgbuild.cli import app
from kgbuild.config import Neo4jConfig
from kgbuild.graph.neo4j_store import Neo4jStore
from kgbuild.graph.store import DocumentRecord, ReadOnlyQueryError, StoreError
from kgbuild.relations.schema import RelationSchema

pytestmark = pytest.mark.neo4j

SCHEMA = RelationSchema.load("default")
LABELS = list(SCHEMA.labels)


def wipe(store: Neo4jStore) -> None:
    store.query("MATCH (n) DETACH DELETE n", write=True)


@pytest.fixture
def store(neo4j_server_config: Neo4jConfig) -> Iterator[Neo4jStore]:
    graph = Neo4jStore(neo4j_server_config)
    graph.ensure_schema(SCHEMA)
    wipe(graph)
    yield graph
    graph.close()


def test_schema_setup_is_repeatable(store: Neo4jStore) -> None:
    store.ensure_schema(SCHEMA)
    store.ensure_schema(SCHEMA)
    names = {row[0] for row in store.query("SHOW CONSTRAINTS YIELD name RETURN name").rows}
    assert {"kgbuild_entity_key", "kgbuild_document_id"} <= names
    assert store.server_version.startswith("5.")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=triple_batches(LABELS))
def test_written_equals_extracted(store: Neo4jStore, batch: list[Any]) -> None:
    wipe(store)
    store.write_triples(batch)
    assert stored(store) == canonical(batch)
    store.write_triples(batch)
    assert stored(store) == canonical(batch)
    edges = {(t.head.key, t.label, t.tail.key) for t in batch}
    assert sum(store.stats().relationships.values()) == len(edges)


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
    assert store.documents()["/x/a.txt"].id == "doc-new" and len(store.documents()) == 2
    rows = store.query("MATCH (:Entity)-[r:WORKS_FOR]->(:Entity) RETURN r.support, r.doc_ids").rows
    assert rows == [[1, ["doc-b"]]]


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_cypher_in_names_is_stored_verbatim(store: Neo4jStore, name: str) -> None:
    bystander = make_triple("Ann", "works_for", "Acme", doc="d0")
    hostile = make_triple(name, "works_for", name + " Org", doc="d1", sentence=name)
    store.replace_document(DocumentRecord("d1", name, name), [bystander, hostile])
    assert stored(store) == canonical([bystander, hostile])
    assert store.query("MATCH (e:Entity) WHERE e.name = $n RETURN e.name", {"n": name}).rows == [[name]]
    assert store.documents()[name].hash == name


@pytest.mark.parametrize("cypher", WRITE_QUERIES)
def test_query_refuses_write_clauses(store: Neo4jStore, cypher: str) -> None:
    store.write_triples([make_triple("Ann", "works_for", "Acme")])
    before = stored(store)
    with pytest.raises(ReadOnlyQueryError):
        store.query(cypher)
    assert stored(store) == before


def test_write_procedures_are_refused_by_the_read_transaction(store: Neo4jStore) -> None:
    store.write_triples([make_triple("Ann", "works_for", "Acme")])
    with pytest.raises(ReadOnlyQueryError, match="--write"):
        store.query("CALL db.createLabel('Injected')")
    labels = {row[0] for row in store.query("CALL db.labels() YIELD label RETURN label").rows}
    assert "Injected" not in labels


def test_wrong_password_is_one_clear_line(neo4j_server_config: Neo4jConfig) -> None:
    wrong = neo4j_server_config.model_copy(update={"password": SecretStr("definitely-wrong-pw")})
    with pytest.raises(StoreError) as info:
        Neo4jStore(wrong)
    message = str(info.value)
    assert "authentication failed" in message and "definitely-wrong-pw" not in message and "\n" not in message


def test_unreachable_server(neo4j_server_config: Neo4jConfig) -> None:
    down = neo4j_server_config.model_copy(update={"uri": "bolt://127.0.0.1:9"})
    with pytest.raises(StoreError, match="unreachable"):
        Neo4jStore(down)


def test_failed_batch_leaves_nothing_half_written_and_rerun_completes(store: Neo4jStore,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    triples = [make_triple(f"Person {i}", "works_for", f"Org {i}", doc="d") for i in range(6)]
    store.batch_size = 2
    calls = {"n": 0}
    real_merge_edges = store._merge_edges

    def flaky(tx: Any, rel_type: str, items: Any) -> None:
        calls["n"] += 1
        real_merge_edges(tx, rel_type, items)  # writes inside the transaction ...
        if calls["n"] == 2:
            raise RuntimeError("simulated crash mid-batch")  # ... which must then roll back

    monkeypatch.setattr(store, "_merge_edges", flaky)
    with pytest.raises(RuntimeError):
        store.write_triples(triples)
    written = stored(store)
    assert len(written) == 2 and written < canonical(triples)  # batch 1 committed, batch 2 rolled back whole
    assert store.stats().relationships == {"WORKS_FOR": 2} and store.stats().nodes["Entity"] == 12
    monkeypatch.undo()
    store.write_triples(triples)
    assert stored(store) == canonical(triples)


def test_constraint_conflict_is_reported(store: Neo4jStore) -> None:
    store.query("DROP CONSTRAINT kgbuild_entity_key IF EXISTS", write=True)
    store.query("CREATE (:Entity {key: 'dup|X'}), (:Entity {key: 'dup|X'})", write=True)
    with pytest.raises(StoreError, match="constraint|Constraint"):
        store.ensure_schema(SCHEMA)
    wipe(store)
    store.ensure_schema(SCHEMA)


def test_cli_against_neo4j(store: Neo4jStore, neo4j_server_config: Neo4jConfig,
                           monkeypatch: pytest.MonkeyPatch) -> None:
    store.replace_document(DocumentRecord("d1", "/a", "h"), [make_triple("Ann", "works_for", "Acme", doc="d1")])
    assert neo4j_server_config.password is not None
    password = neo4j_server_config.password.get_secret_value()
    monkeypatch.setenv("NEO4J_PASSWORD", password)
    runner = CliRunner()
    base = ["--store", "neo4j", "--neo4j-uri", neo4j_server_config.uri, "--neo4j-user", neo4j_server_config.user]
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


def test_neo4j_older_than_5_is_refused(neo4j_server_config: Neo4jConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    """No Neo4j 4 server is at hand, so the version answer of the real server is rewritten."""
    import neo4j

    real = neo4j.Driver.execute_query

    def old_version(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        if "dbms.components" in str(query):
            return [{"name": "Neo4j Kernel", "versions": ["4.4.30"]}], None, None
        return real(self, query, *args, **kwargs)

    monkeypatch.setattr(neo4j.Driver, "execute_query", old_version)
    with pytest.raises(StoreError, match="version 4.4.30; kgbuild needs Neo4j 5"):
        Neo4jStore(neo4j_server_config)
