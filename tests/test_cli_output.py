"""Document text never drives the terminal: no Rich markup, no escape sequences, one line per error."""

from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from graph_cases import SCHEMA, make_triple
from hypothesis import example, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kgbuild.cli import app
from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.store import StoreError
from kgbuild.types import entity_key

HOSTILE = ["Acme[/]Corp Inc.", "[bold red]Evil[/bold red] Ltd", "\x1b[31mRed Corp\x1b[0m", "\x1b]0;pwned\x07Title Co",
           "Ann\u202eReversed", "tab\there"]


@contextmanager
def console_capture() -> Iterator[io.StringIO]:
    """What the CLI's console prints, as plain text."""
    from rich.console import Console

    import kgbuild.cli.ingest as ingest_cli

    buffer = io.StringIO()
    saved = ingest_cli.console
    ingest_cli.console = Console(file=buffer, width=200)
    try:
        yield buffer
    finally:
        ingest_cli.console = saved


def graph_with(tmp_path: Path, names: list[str]) -> str:
    path = tmp_path / "g.lbug"
    store = EmbeddedStore(path)
    store.ensure_schema(SCHEMA)
    store.write_triples([make_triple("Ann", "works_for", name, sentence=f"Ann works for {name}.") for name in names])
    store.close()
    return str(path)


def test_markup_and_escape_sequences_in_entities_are_printed_as_text(tmp_path: Path) -> None:
    graph = graph_with(tmp_path, HOSTILE)
    query = "MATCH (a:Entity)-[r]->(b:Entity) RETURN a.name, label(r) AS relation, b.name ORDER BY b.name"
    result = CliRunner().invoke(app, ["query", query, "--store-path", graph])
    assert result.exit_code == 0, result.output
    assert "Acme[/]Corp Inc." in result.output and "[bold red]Evil[/bold red] Ltd" in result.output
    assert "\x1b" not in result.output and "\x07" not in result.output and "\u202e" not in result.output
    assert "\\x1b[31mRed Corp\\x1b[0m" in result.output and "\\x1b]0;pwned\\x07Title Co" in result.output
    assert "Ann\\u202eReversed" in result.output
    stats = CliRunner().invoke(app, ["stats", "--store-path", graph])
    assert stats.exit_code == 0 and "WORKS_FOR" in stats.output


def test_a_column_named_like_markup_is_text(tmp_path: Path) -> None:
    graph = graph_with(tmp_path, ["Acme"])
    result = CliRunner().invoke(app, ["query", "RETURN 1 AS `[red]x[/red]`", "--store-path", graph])
    assert result.exit_code == 0 and "[red]x[/red]" in result.output


def test_errors_show_control_characters_visibly(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "absent\x1b[2J")])
    assert result.exit_code == 1 and "\x1b" not in result.output and "\\x1b[2J" in result.output


def test_http_uri_and_credentials_in_uris_never_leak(tmp_path: Path) -> None:
    from kgbuild.cli.ingest import print_summary
    from kgbuild.config import Neo4jConfig, PipelineConfig, StoreConfig
    from kgbuild.graph.neo4j_store import Neo4jStore
    from kgbuild.workflows.ingest import IngestSummary

    result = CliRunner().invoke(app, ["stats", "--store", "neo4j", "--neo4j-uri", "http://localhost:7474"])
    assert result.exit_code == 1 and len(result.output.strip().splitlines()) == 1 and "Bolt" in result.output
    with pytest.raises(StoreError, match="must start with one of bolt://"):
        Neo4jStore(Neo4jConfig(uri="https://user:secret@example.invalid"))
    config = PipelineConfig(store=StoreConfig(kind="neo4j", neo4j=Neo4jConfig(uri="bolt://ann:s3cret@db:7687")))
    with console_capture() as output:
        print_summary(IngestSummary(), config)
    assert "bolt://db:7687" in output.getvalue() and "s3cret" not in output.getvalue()


@settings(max_examples=5, deadline=None)
@example(names=["0\x85", "\x9b31mCSI", "line\u2028separator", "Zoë 東京 🚀", "Ann\x1b[31m", "Acme\x00 Ltd"])
@given(names=st.lists(st.text(min_size=1, max_size=30).filter(lambda s: s.strip() != ""), min_size=1, max_size=10,
                      unique_by=lambda s: entity_key(s, "ORG")))
def test_names_round_trip_through_query_json_and_exports(names: list[str]) -> None:
    """``query --json`` and JSONL keep every name verbatim; GraphML too, but for what XML 1.0 cannot hold (U+FFFD)."""
    import tempfile

    import networkx as nx

    from kgbuild.graph.export import xml_text

    with tempfile.TemporaryDirectory() as folder:
        graph = graph_with(Path(folder), names)
        result = CliRunner().invoke(app, ["query", "MATCH (a)-[r]->(b:Entity) RETURN b.name AS name", "--json",
                                          "--store-path", graph])
        assert result.exit_code == 0, result.output
        assert sorted(json.loads(line)["name"] for line in result.stdout.splitlines()) == sorted(names)
        jsonl, graphml = Path(folder) / "a.jsonl", Path(folder) / "a.graphml"
        for out, fmt in ((jsonl, "jsonl"), (graphml, "graphml")):
            assert CliRunner().invoke(app, ["export", str(out), "-f", fmt, "--store-path", graph]).exit_code == 0
        rows = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").split("\n") if line]
        assert sorted(row["tail"]["name"] for row in rows) == sorted(names)
        read_back = {data["name"] for _, data in nx.read_graphml(graphml).nodes(data=True)}
        assert read_back == {xml_text(name) for name in names} | {"Ann"}


def test_ingest_progress_shows_documents_per_second() -> None:
    from rich.progress import Progress

    from kgbuild.cli.ingest import DocumentRate

    progress = Progress(DocumentRate(), auto_refresh=False, disable=True)
    files = progress.add_task("files", total=10)
    pairs = progress.add_task("pairs", total=100)
    for _ in range(4):  # rich measures speed from the time between updates
        progress.advance(files)
        progress.advance(pairs, 20)
        time.sleep(0.05)
    column = DocumentRate()
    rate = column.render(progress.tasks[files]).plain
    assert rate.endswith(" docs/s") and float(rate.split()[0]) > 0
    assert column.render(progress.tasks[pairs]).plain == ""  # pairs arrive in bursts: no rate on that row


def test_facts_of_one_file_above_a_confidence(tmp_path: Path) -> None:
    from kgbuild.graph.store import DocumentRecord

    path = tmp_path / "g.lbug"
    store = EmbeddedStore(path)
    store.ensure_schema(SCHEMA)
    store.replace_document(DocumentRecord("doc-a", "/data/news/a.txt", "h1"),
                           [make_triple("Ann", "works_for", "Acme", doc="doc-a", sentence="Ann works for Acme.",
                                        confidence=0.95),
                            make_triple("Ann", "works_for", "Globex", doc="doc-a", confidence=0.55)])
    store.replace_document(DocumentRecord("doc-b", "/data/news/b.txt", "h2"),
                           [make_triple("Bob", "works_for", "Initech", doc="doc-b", confidence=0.9)])
    store.close()
    runner = CliRunner()
    result = runner.invoke(app, ["facts", "--store-path", str(path), "--file", "a.txt", "--min-confidence", "0.8",
                                 "--json"])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert [(r["head"]["name"], r["tail"]["name"], r["document"]) for r in rows] == [("Ann", "Acme",
                                                                                     "/data/news/a.txt")]
    everything = runner.invoke(app, ["facts", "--store-path", str(path)])
    assert "3 fact(s)" in everything.output and everything.output.index("Acme") < everything.output.index("Globex")
    missing = runner.invoke(app, ["facts", "--store-path", str(path), "--file", "c.txt"])
    assert missing.exit_code == 1 and "no stored document is 'c.txt'" in missing.output


def test_eval_train_and_calibrate_default_the_pipeline_like_ingest() -> None:
    for command in ("eval", "train", "calibrate", "ingest", "query"):
        result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0
        assert "default: pipelines/default.yaml" in result.output, command
    assert "'kgbuild[ray]'" in CliRunner().invoke(app, ["ingest", "--help"], env={"COLUMNS": "200"}).output
