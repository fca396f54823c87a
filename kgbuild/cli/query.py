"""``kgbuild query``, ``stats`` and ``export``: read the stored graph."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from kgbuild.cli._common import app, console, fail, plain, user_errors
from kgbuild.cli._options import with_store_options
from kgbuild.config import PipelineConfig
from kgbuild.graph.cypher_guard import MAX_NESTING, bracket_depth
from kgbuild.workflows.graph_ops import (
    FactFilter,
    export_for_import,
    export_graph,
    graph_stats,
    list_facts,
    run_query,
    write_view,
)


@app.command()
@with_store_options
def query(
    cypher: Annotated[str, typer.Argument(help="a Cypher query; pass values with --param, never inline")],
    param: Annotated[list[str] | None, typer.Option("--param", help="query parameter key=value (JSON value)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON lines instead of a table")] = False,
    write: Annotated[bool, typer.Option("--write", help="allow clauses that modify the graph")] = False,
    timeout: Annotated[float, typer.Option("--timeout", min=0.1, help="stop the query after this many seconds")]
    = 30.0,
    *,
    config: PipelineConfig,
) -> None:
    """Run a Cypher query against the graph (read-only unless --write)."""
    params = parse_params(param or [])
    with user_errors():
        result = run_query(config, cypher, params, write=write, timeout=timeout)
    if as_json:  # one compact object per line; no raw control, line-separator or bidi character reaches stdout
        for row in result.rows:
            echo_json(dict(zip(result.columns, row, strict=True)))
        return
    table = Table()
    for column in result.columns:
        table.add_column(plain(column))
    for row in result.rows:
        table.add_row(*[plain(_cell(v)) for v in row])
    console.print(table)
    console.print(f"{len(result.rows)} row(s)")


_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def echo_json(record: dict[str, Any]) -> None:
    """One compact JSON object per line; no raw control, line-separator or bidi character reaches stdout."""
    line = json.dumps(record, ensure_ascii=False, default=str)
    typer.echo(_UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", line))


def parse_params(params: list[str]) -> dict[str, Any]:
    """``key=value`` pairs; a value is read as JSON (numbers, booleans, lists), else kept as a string."""
    parsed: dict[str, Any] = {}
    for item in params:
        if "=" not in item:
            raise fail(f"--param takes key=value, got {item!r}")
        key, raw = item.split("=", 1)
        if bracket_depth(raw) > MAX_NESTING:
            raise fail(f"--param {key!r} nests more than {MAX_NESTING} levels deep")
        try:
            parsed[key] = json.loads(raw)
        except json.JSONDecodeError:
            parsed[key] = raw
    return parsed



def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, default=str)
        return text if len(text) <= 200 else text[:197] + "..."
    return str(value)


@app.command()
@with_store_options
def stats(*, config: PipelineConfig) -> None:
    """Counts by node label and relationship type; the lexical graph (sentences and mentions) apart."""
    with user_errors():
        counts = graph_stats(config)
    table = Table("kind", "name", "count")
    for label, count in sorted(counts.nodes.items()):
        table.add_row("node", plain(label), str(count))
    for rel_type, count in sorted(counts.relationships.items()):
        table.add_row("relationship", plain(rel_type), str(count))
    for name, count in sorted(counts.lexical.items()):
        table.add_row("lexical", plain(name), str(count))
    console.print(table)


@app.command()
@with_store_options
def export(
    out: Annotated[Path, typer.Argument(help="output file; a folder for neo4j-import")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="jsonl, graphml or neo4j-import")] = "jsonl",
    database: Annotated[str, typer.Option("--database", help="neo4j-import: the database import.sh "
                                                              "loads by default")] = "neo4j",
    *,
    config: PipelineConfig,
) -> None:
    """Export every triple with its provenance (JSONL, GraphML), or the whole graph as the CSV files and
    import.sh of `neo4j-admin database import full`, a first load at import speed."""
    if fmt not in ("graphml", "jsonl", "neo4j-import"):
        raise fail(f"--format must be jsonl, graphml or neo4j-import, not {fmt!r}")
    with user_errors():
        if fmt == "neo4j-import":
            written = export_for_import(config, out, database)
            console.print(plain(f"wrote {written.nodes} nodes and {written.relationships} relationships to "
                                f"{out}; load them into an empty, stopped Neo4j with {out / 'import.sh'}"))
            return
        count = export_graph(config, out, "jsonl" if fmt == "jsonl" else "graphml")
    unit = "triples" if fmt == "jsonl" else "relationships"
    console.print(plain(f"wrote {count} {unit} to {out}"))


@app.command()
@with_store_options
def facts(
    file: Annotated[str | None, typer.Option("--file", help="only facts from this document: its path as stored, "
                                                           "the end of it, or its file name")] = None,
    min_confidence: Annotated[float, typer.Option("--min-confidence", min=0.0, max=1.0,
                                                  help="only facts at or above this confidence")] = 0.0,
    label: Annotated[str | None, typer.Option("--label", help="only this relation label, e.g. works_for")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="at most this many rows")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON lines instead of a table")] = False,
    *,
    config: PipelineConfig,
) -> None:
    """List stored facts with their sentence and document, most confident first (no Cypher needed)."""
    with user_errors():
        found = list_facts(config, FactFilter(file, min_confidence, label), limit)
    if as_json:
        for triple, path in found:
            echo_json({**triple.to_json(), "document": path})
        return
    table = Table("head", "relation", "tail", "confidence", "document", "sentence")
    for triple, path in found:
        table.add_row(plain(triple.head.name), plain(triple.label), plain(triple.tail.name),
                      f"{triple.evidence.confidence:.3f}", plain(path), plain(_cell(triple.evidence.sentence)))
    console.print(table)
    console.print(f"{len(found)} fact(s)")


@app.command()
@with_store_options
def view(
    out: Annotated[Path, typer.Argument(help="the HTML file to write")],
    entity: Annotated[str | None, typer.Option("--entity", help="only the relationships of the entity with this "
                                                               "name (any case)")] = None,
    limit: Annotated[int, typer.Option("--limit", min=1, help="at most this many relationships, the most "
                                                              "confident first")] = 5000,
    *,
    config: PipelineConfig,
) -> None:
    """Write the graph as one self-contained HTML page (no network needed): coloured by type, searchable, and a
    click shows the sentences behind a relationship."""
    with user_errors():
        counts = write_view(config, out, entity, limit)
    shown = f"{counts['relationships']} of {counts['stored']}" if counts["relationships"] < counts["stored"] \
        else str(counts["relationships"])
    console.print(plain(f"wrote {out}: {counts['entities']} entities, {shown} relationships"))
