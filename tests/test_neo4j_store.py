"""The Neo4j store against a real Neo4j 5 server (started by the session fixture ``neo4j_config``).

Only what Neo4j alone does; the contract both stores keep is in test_store_contract.py.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from graph_cases import (
    LABELS,
    SCHEMA,
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
from pydantic import SecretStr
from typer.testing import CliRunner

from kgbuild.cli import app
from kgbuild.config import Neo4jConfig
from kgbuild.graph.evidence_records import CREATE_RECORDS, FIND_RECORDS
from kgbuild.graph.lexical import LINK_SENTENCES, MERGE_MENTIONS, MERGE_SENTENCES
from kgbuild.graph.neo4j_store import Neo4jStore, WriteCounters
from kgbuild.graph.neo4j_writes import CREATE_EDGES, FIND_EDGES, LOCK_ENTITIES, plain_rel_type
from kgbuild.graph.queries import MERGE_ENTITIES
from kgbuild.graph.store import DocumentRecord, ReadOnlyQueryError, StoreError
from kgbuild.types import Triple

pytestmark = pytest.mark.neo4j


# -- helpers ------------------------------------------------------------------------------
def written_by(store: Neo4jStore, action: Any, *args: Any) -> WriteCounters:
    """The committed write counters of one store call."""
    before = store.counters.copy()
    action(*args)
    return store.counters.since(before)


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
    # SHOW is an admin command, outside the read-only guard's read clauses: run it unguarded
    constraints = {row[0] for row in store._run_query("SHOW CONSTRAINTS YIELD name RETURN name", {}, False).rows}
    indexes = {row[0] for row in store._run_query("SHOW INDEXES YIELD name RETURN name", {}, False).rows}
    assert {"kgbuild_entity_key", "kgbuild_document_id"} <= constraints
    assert {"kgbuild_document_path", "kgbuild_entity_name", "kgbuild_entity_type"} <= indexes
    assert store.server_version.startswith("5.")


def test_a_graph_of_an_earlier_version_has_its_evidence_lists_moved_into_records(store: Neo4jStore,
                                                                                 neo4j_config: Neo4jConfig) -> None:
    """Before evidence records, each edge held its evidence as a JSON list: a read-only store says what to do,
    the next writable one moves the lists into records, and the graph reads back as it was written."""
    triples = [make_triple("Ann", "works_for", "Acme", doc="d1"), make_triple("Ann", "works_for", "Acme", doc="d2")]
    head, tail = triples[0].head, triples[0].tail
    store.query("CREATE (h:Entity {key: $hk, name: $hn, type: $ht, aliases: []}), "
                "(t:Entity {key: $tk, name: $tn, type: $tt, aliases: []}), "
                "(h)-[:WORKS_FOR {confidence: 0.9, model: 'm', support: 2, reviewed: 0, doc_ids: ['d1', 'd2'], "
                "sentence_ids: [], evidence: $evidence}]->(t)",
                {"hk": head.key, "hn": head.name, "ht": head.type, "tk": tail.key, "tn": tail.name, "tt": tail.type,
                 "evidence": [t.evidence.to_json() for t in triples]}, write=True)
    reader = Neo4jStore(neo4j_config, read_only=True)
    try:
        with pytest.raises(StoreError, match="earlier kgbuild"):
            reader.ensure_schema(SCHEMA)
    finally:
        reader.close()
    store.ensure_schema(SCHEMA)
    assert stored(store) == {(t.head.key, t.label, t.tail.key, t.evidence.to_json()) for t in triples}
    assert store.query("MATCH ()-[r:WORKS_FOR]->() RETURN r.evidence").rows == [[None]]
    store.remove_document("d1")
    assert store.query("MATCH ()-[r:WORKS_FOR]->() RETURN r.support, r.doc_ids").rows == [[1, ["d2"]]]


@pytest.mark.parametrize("rel_type", ["WORKS_FOR]->() DETACH DELETE r //", "A B", "`X`", "works_for", ""])
def test_only_plain_identifiers_reach_a_statement(rel_type: str) -> None:
    with pytest.raises(StoreError, match="not a plain identifier"):
        plain_rel_type(rel_type)


# -- round trips --------------------------------------------------------------------------
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=triple_batches(LABELS))
def test_rerun_writes_nothing(store: Neo4jStore, batch: list[Triple]) -> None:
    """The contract's round trip, plus Neo4j's committed counters: a rerun creates and rewrites nothing."""
    wipe(store)
    store.write_triples(batch)
    rerun = written_by(store, store.write_triples, batch)
    assert rerun == WriteCounters()  # nothing created, nothing rewritten
    assert stored(store) == canonical(batch) and edges(store) == expected_edges(batch)


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


def test_servers_before_5_26_get_one_statement_per_type(store: Neo4jStore) -> None:
    """Dynamic relationship types are a 5.26 feature; the per-type fallback writes the same graph."""
    batch = [make_triple("Ann", label, f"Org {i}", doc=f"d{i % 2}") for i, label in enumerate(LABELS * 2)]
    store.dynamic_types = False
    store.write_triples(batch)
    assert written_by(store, store.write_triples, batch) == WriteCounters()
    assert stored(store) == canonical(batch) and edges(store) == expected_edges(batch)


def test_concurrent_writers_never_duplicate_an_edge(store: Neo4jStore, neo4j_config: Neo4jConfig) -> None:
    """Two processes loading overlapping triples at once: each edge exists once, carrying both writers'
    evidence (the entity locks serialise the find-then-CREATE of shared edges)."""
    pairs = [(f"Person {i % 7}", f"Org {i % 5}") for i in range(60)]
    first = [make_triple(h, "works_for", t, doc="a", index=i) for i, (h, t) in enumerate(pairs)]
    second = [make_triple(h, "works_for", t, doc="b", index=i) for i, (h, t) in enumerate(reversed(pairs))]
    other = Neo4jStore(neo4j_config)
    other.ensure_schema(SCHEMA)
    store.batch_size = other.batch_size = 4  # many small transactions, so the two writers interleave
    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda job: job[0].write_triples(job[1]), [(store, first), (other, second)]))
    finally:
        other.close()
    count = store.query("MATCH (:Entity)-[r:WORKS_FOR]->(:Entity) RETURN count(r)").rows[0][0]
    assert count == len(set(pairs))
    assert stored(store) == canonical(first + second) and edges(store) == expected_edges(first + second)


def test_profiling_a_write_reports_plans_and_writes_nothing(store: Neo4jStore) -> None:
    batch = [make_triple(f"Person {i}", "works_for", "Acme", index=i) for i in range(5)]
    profiles = store.profile_write(batch)
    assert [p.statement for p in profiles] == [MERGE_ENTITIES, LOCK_ENTITIES, FIND_RECORDS, FIND_EDGES, CREATE_EDGES,
                                               CREATE_RECORDS, MERGE_SENTENCES, LINK_SENTENCES, MERGE_MENTIONS]
    create = profiles[4]
    assert create.rows == 0 and create.db_hits > 0
    assert any(o.operator.startswith("Create") for o in create.operators)
    assert store.stats().nodes == {} and store.stats().relationships == {} and store.stats().lexical == {}


def test_constraint_conflict_is_reported(store: Neo4jStore) -> None:
    store.query("DROP CONSTRAINT kgbuild_entity_key IF EXISTS", write=True)
    store.query("CREATE (:Entity {key: 'dup|X'}), (:Entity {key: 'dup|X'})", write=True)
    with pytest.raises(StoreError, match="constraint|Constraint"):
        store.ensure_schema(SCHEMA)
    wipe(store)
    store.ensure_schema(SCHEMA)


# -- hostile input and read-only queries --------------------------------------------------
def test_write_procedures_are_refused_by_the_read_transaction(store: Neo4jStore) -> None:
    store.write_triples([make_triple("Ann", "works_for", "Acme")])
    before = (stored(store), store.stats())
    with pytest.raises(ReadOnlyQueryError, match="--write"):
        store.query("CALL db.createLabel('Injected')")  # the guard refuses CALL first
    with pytest.raises(ReadOnlyQueryError, match="--write"):  # and the read transaction underneath
        store._run_query("CALL db.createLabel('Injected')", {}, write=False)
    labels = {row[0] for row in store.query("CALL db.labels() YIELD label RETURN label", write=True).rows}
    assert "Injected" not in labels and (stored(store), store.stats()) == before


def test_query_results_are_json_friendly(store: Neo4jStore) -> None:
    triple = make_triple("Ann", "works_for", "Acme")
    store.write_triples([triple])
    result = store.query("MATCH p = (a:Entity {name: $n})-[r]->(b:Entity) RETURN a, r, p, date('2024-01-02') AS d",
                         {"n": "Ann"})
    assert result.columns == ["a", "r", "p", "d"]
    node, rel, path, day = result.rows[0]
    assert node == {"key": triple.head.key, "name": "Ann", "type": "PERSON", "aliases": [], "_label": "Entity"}
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
