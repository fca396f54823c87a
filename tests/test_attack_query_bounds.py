"""Attack class: a query or parameter that exhausts the parser, the time or the process. Length, bracket
depth and parameter depth are refused before any parser runs; the time limit holds even inside one
expression (the child process running a read-only query is killed past it); a child that dies is one line."""

from __future__ import annotations

import json
import os
import stat
import time
from pathlib import Path

import pytest
from graph_cases import SCHEMA, make_triple
from typer.testing import CliRunner

import kgbuild.graph.isolated_query as isolated_query
from kgbuild.cli import app
from kgbuild.graph.cypher_guard import MAX_NESTING, MAX_QUERY_CHARS
from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.store import QueryTimeoutError, StoreError


@pytest.fixture(scope="module")
def graph_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bounds") / "graph.lbug"
    store = EmbeddedStore(path)
    store.ensure_schema(SCHEMA)
    store.write_triples([make_triple("Ann", "works_for", "Acme")])
    store.close()
    return path


def run(graph_file: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["query", "--store-path", str(graph_file), *args])
    return result.exit_code, result.output


@pytest.mark.parametrize(("cypher", "says"), [
    ("RETURN " + "(" * 4000 + "1" + ")" * 4000, "nests"),
    ("RETURN " + "+".join(["1"] * 20_000), "characters long"),
    ("MATCH (n) RETURN n.name AS " + "x" * MAX_QUERY_CHARS, "characters long"),
])
def test_huge_or_deep_queries_are_one_line_before_any_parser(graph_file: Path, cypher: str, says: str) -> None:
    started = time.monotonic()
    code, output = run(graph_file, cypher)
    assert code == 1 and says in output and output.count("\n") == 1
    assert time.monotonic() - started < 20  # refused by counting, not by a parser working through it


@pytest.mark.parametrize("value", ["[" * 5000 + "]" * 5000, '{"a":' * 5000 + "1" + "}" * 5000])
def test_deeply_nested_parameters_are_one_line(graph_file: Path, value: str) -> None:
    code, output = run(graph_file, "RETURN $x AS x", "--param", f"x={value}")
    assert code == 1 and f"{MAX_NESTING} levels" in output and "Traceback" not in output


def test_parameters_within_the_limit_still_work(graph_file: Path) -> None:
    nested = "[" * 5 + "1" + "]" * 5
    code, output = run(graph_file, "RETURN $x AS x", "--param", f"x={nested}", "--json")
    assert code == 0 and json.loads(output) == {"x": json.loads(nested)}


def test_parameter_depth_is_checked_for_library_callers_too(graph_file: Path) -> None:
    deep: list[object] = []
    for _ in range(MAX_NESTING + 2):
        deep = [deep]
    store = EmbeddedStore(graph_file, read_only=True)
    try:
        with pytest.raises(StoreError, match="levels deep"):
            store.query("RETURN $x AS x", {"x": deep})
    finally:
        store.close()


def test_the_time_limit_holds_inside_one_expression(graph_file: Path) -> None:
    """LadybugDB's own limit is checked between batches: building this list alone took about a minute past
    a one-second limit, so the child running it is killed instead."""
    started = time.monotonic()
    code, output = run(graph_file, "--timeout", "1", "UNWIND range(1, 1000000000) AS x RETURN count(x)")
    assert code == 1 and "time limit of 1 s" in output
    assert time.monotonic() - started < 30
    assert sorted(p.name for p in graph_file.parent.iterdir()) == ["graph.lbug"]


def test_a_query_within_its_time_limit_answers(graph_file: Path) -> None:
    store = EmbeddedStore(graph_file, read_only=True)
    try:
        assert store.query("MATCH (e:Entity) RETURN count(e) AS n", timeout=30).rows == [[2]]
    finally:
        store.close()


def test_a_child_that_dies_is_one_error_and_the_store_lives_on(graph_file: Path, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    crashing = tmp_path / "crashing-python"
    crashing.write_text("#!/bin/sh\nkill -SEGV $$\n")
    crashing.chmod(crashing.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setattr(isolated_query.sys, "executable", str(crashing))
    store = EmbeddedStore(graph_file, read_only=True)
    try:
        with pytest.raises(StoreError, match="signal 11") as refused:
            store.query("MATCH (e:Entity) RETURN e.name")
        assert not isinstance(refused.value, QueryTimeoutError)
        # a request larger than the pipe holds: the child is dead before it reads, so the write breaks the pipe
        with pytest.raises(StoreError, match="signal 11"):
            store.query("MATCH (e:Entity) WHERE e.name = $name RETURN e.name", {"name": "x" * 1_000_000})
    finally:
        store.close()
    monkeypatch.undo()
    assert os.path.exists(graph_file)
    assert run(graph_file, "MATCH (e:Entity) RETURN count(e) AS n", "--json")[1].strip() == '{"n": 2}'
