"""Attack class: a read-only query that reads, writes or loads something outside the store. Every corpus
query is refused on both stores, nothing appears in the watched folder, the store file is unchanged and no
WAL or shadow file is left (a `CHECKPOINT` once left the store needing recovery). Behind the guard, the
databases' own parser and planner refuse the same payloads on their own."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from attack_queries import corpus
from graph_cases import SCHEMA, make_triple
from typer.testing import CliRunner

from kgbuild.cli import app
from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.store import GraphStore, ReadOnlyQueryError

# Payloads the second wall alone must refuse: LadybugDB binds them without touching a file. (EXPORT and
# IMPORT create or read their folder while binding, which is why the guard comes first.)
EMBEDDED_SECOND_WALL = [
    "LOAD FROM '/etc/passwd' (file_format='csv', header=false, delim=':') RETURN column0",
    "COPY (MATCH (n) RETURN n.name) TO '{out}/copied.csv'",
    "INSTALL json FROM 'http://127.0.0.1:9/'",
    "CALL current_setting('home_directory') RETURN *",
    "CALL show_tables() RETURN *",
    "CHECKPOINT",
    "CALL threads=1",
    "MATCH (n:Entity) RETURN n.name; CHECKPOINT",
    "MATCH (n:Entity) RETURN n.name; MATCH (n) DETACH DELETE n",
]
NEO4J_SECOND_WALL = [
    "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
    "CALL dbms.components() YIELD name RETURN name",
    "CALL db.labels() YIELD label RETURN label",
    "MATCH (n) DETACH DELETE n",
]


@pytest.fixture()
def graph_file(tmp_path: Path) -> Path:
    path = tmp_path / "store" / "graph.lbug"
    store = EmbeddedStore(path)
    store.ensure_schema(SCHEMA)
    store.write_triples([make_triple("Ann", "works_for", "Acme")])
    store.close()
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_attack_is_refused_by_a_read_only_store_and_touches_nothing(graph_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    before = digest(graph_file)
    store = EmbeddedStore(graph_file, read_only=True)
    try:
        for name, cypher in corpus(str(out)):
            with pytest.raises(ReadOnlyQueryError, match="--write"):
                store.query(cypher)
            assert list(out.iterdir()) == [], name
        assert store.query("MATCH (e:Entity) RETURN e.name ORDER BY e.name").rows == [["Acme"], ["Ann"]]
    finally:
        store.close()
    assert digest(graph_file) == before
    assert sorted(p.name for p in graph_file.parent.iterdir()) == ["graph.lbug"]  # no .wal, no .shadow


@pytest.mark.parametrize("payload", EMBEDDED_SECOND_WALL)
def test_ladybug_parser_and_planner_refuse_on_their_own(graph_file: Path, tmp_path: Path, payload: str) -> None:
    """The guard is bypassed here: what LadybugDB itself says about the statement must stop it."""
    out = tmp_path / "out"
    out.mkdir()
    store = EmbeddedStore(graph_file, read_only=True, isolated=False)
    try:
        with pytest.raises(ReadOnlyQueryError, match="database"):
            store._run_query(payload.replace("{out}", str(out)), {}, False, 5.0)
    finally:
        store.close()
    assert list(out.iterdir()) == []
    assert sorted(p.name for p in graph_file.parent.iterdir()) == ["graph.lbug"]


def test_cli_query_refuses_the_audit_attack_and_prints_no_host_file(graph_file: Path) -> None:
    attack = ("WITH 1 AS x /***/ // */ LOAD FROM '/etc/passwd' (file_format='csv', header=false, delim=':') "
              "RETURN column0, column5 LIMIT 3")
    result = CliRunner().invoke(app, ["query", "--store-path", str(graph_file), attack])
    assert result.exit_code == 1
    assert "root" not in result.output and "comment" in result.output
    assert "Traceback" not in result.output


def test_read_only_commands_leave_no_wal_or_shadow(graph_file: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    for args in (["query", "CHECKPOINT"], ["query", "MATCH (n) RETURN n; CHECKPOINT"], ["stats"],
                 ["export", str(tmp_path / "out.jsonl")], ["query", "MATCH (e:Entity) RETURN e.name"]):
        runner.invoke(app, [args[0], "--store-path", str(graph_file), *args[1:]])
        assert sorted(p.name for p in graph_file.parent.iterdir()) == ["graph.lbug"], args
    assert runner.invoke(app, ["stats", "--store-path", str(graph_file)]).exit_code == 0


@pytest.fixture()
def neo4j_store(neo4j_config: Any) -> Iterator[GraphStore]:
    from kgbuild.graph.neo4j_store import Neo4jStore

    store = Neo4jStore(neo4j_config)
    store.ensure_schema(SCHEMA)
    store.query("MATCH (n) DETACH DELETE n", write=True)
    store.ensure_schema(SCHEMA)
    store.write_triples([make_triple("Ann", "works_for", "Acme")])
    yield store
    store.close()


@pytest.mark.neo4j
def test_neo4j_refuses_every_attack(neo4j_store: GraphStore) -> None:
    for name, cypher in corpus():
        with pytest.raises(ReadOnlyQueryError):
            neo4j_store.query(cypher)
        assert neo4j_store.stats().nodes.get("Entity") == 2, name


@pytest.mark.neo4j
@pytest.mark.parametrize("payload", NEO4J_SECOND_WALL)
def test_neo4j_planner_refuses_on_its_own(neo4j_store: Any, payload: str) -> None:
    """The guard is bypassed: the server's EXPLAIN verdict (or its read transaction) must stop it."""
    with pytest.raises(ReadOnlyQueryError):
        neo4j_store._run_query(payload, {}, False, 5.0)
    assert neo4j_store.stats().nodes.get("Entity") == 2


@pytest.mark.neo4j
def test_neo4j_reads_still_run_with_a_time_limit(neo4j_store: GraphStore) -> None:
    rows = neo4j_store.query("MATCH (a:Entity)-[r]->(b:Entity) RETURN a.name, type(r), b.name", timeout=10).rows
    assert rows == [["Ann", "WORKS_FOR", "Acme"]]
