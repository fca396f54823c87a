"""``kgbuild export --format neo4j-import`` against the real import tool: ``neo4j-admin database import full``
(``org.neo4j.cli.AdminTool`` from the test server's Maven classpath) loads the files into a fresh database,
a server starts on it, and every node, relationship and property equals what the online writer wrote from
the same triples; an incremental run on the imported database then writes only what changed."""

from __future__ import annotations

import os
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest
from graph_cases import HOSTILE_NAMES, SCHEMA
from test_lexical_graph import DOC_A, DOC_B, esa_facts, fact

from kgbuild.config import Neo4jConfig
from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.neo4j_import import export_neo4j_import
from kgbuild.graph.neo4j_store import Neo4jStore
from kgbuild.graph.store import DocumentRecord, GraphStore
from kgbuild.types import Alias, Triple

pytestmark = pytest.mark.neo4j

# What CSV, the importer's array splitting and its line handling could break: quotes, commas, line breaks,
# every control character (the array delimiter among them), backslashes and characters beyond the BMP.
AWKWARD = [*HOSTILE_NAMES[:5], 'Say "hi", then, go', "two\nlines", "cr\r\nlf", "tab\there", "back\\slash \\\"",
           "".join(chr(c) for c in range(1, 32)), "emoji 🧪𝔘", ";semi;colons;", "\u2028sep\u2029"]


# other spellings of an entity become its ``aliases`` array: these hold the first candidate delimiters
AWKWARD_ALIASES = [Alias(f"Org\x1f{n}\x1e", "ORG", f"Org {n}", "short_form", doc_id="doc-b") for n in (0, 1)] + [
    Alias('Org;2,"x"\nline', "ORG", "Org 2", "short_form", doc_id="doc-b")]


def random_names(count: int) -> list[str]:
    """Seeded random names over the awkward alphabet (a property test run once, through one real import)."""
    alphabet = "aZ ,;\"'\n\r\t\\|:{}[]()" + "".join(chr(c) for c in range(1, 32)) + "éß東🚀𝔘"
    draw = random.Random(7)
    return ["n" + "".join(draw.choice(alphabet) for _ in range(draw.randint(1, 24))) for _ in range(count)]


def awkward_facts() -> list[Triple]:
    facts = []
    for number, name in enumerate(AWKWARD + random_names(40)):
        text = f"{name} works for Org {number}."
        facts.append(fact("doc-b", text, text, (name, "PERSON", name), "works_for",
                          (f"Org {number}", "ORG", f"Org {number}")))
    return facts


def build(store: GraphStore) -> None:
    """The same writes into any store: two documents, a merge, a pronoun link."""
    store.ensure_schema(SCHEMA)
    store.replace_document(DOC_A, esa_facts(), aliases=[Alias("She", "PERSON", "Ada Ruiz", "pronoun",
                                                              doc_id="doc-a")])
    store.replace_document(DOC_B, awkward_facts(), aliases=AWKWARD_ALIASES)
    store.merge_aliases([Alias("ESA", "ORG", "European Space Agency", "acronym", doc_id="doc-a")])


def dump(store: Neo4jStore) -> tuple[list[str], list[str]]:
    """Every node and every relationship with all its properties, as sortable text."""
    nodes = store.query("MATCH (n) RETURN labels(n) AS l, properties(n) AS p").rows
    rels = store.query("MATCH (a)-[r]->(b) RETURN coalesce(a.key, a.id), type(r), coalesce(b.key, b.id), "
                       "properties(r)").rows
    return sorted(repr((labels, sorted(props.items()))) for labels, props in nodes), \
        sorted(repr((a, kind, b, sorted(props.items()))) for a, kind, b, props in rels)


def same(left: tuple[list[str], list[str]], right: tuple[list[str], list[str]]) -> None:
    """The two dumps hold the same items; otherwise the first items only one of them holds."""
    for ours, theirs in zip(left, right, strict=True):
        only_ours, only_theirs = sorted(set(ours) - set(theirs)), sorted(set(theirs) - set(ours))
        assert not only_ours and not only_theirs, (only_ours[:3], only_theirs[:3])
        assert len(ours) == len(theirs)


def run_import(folder: Path, home: Path, command: list[str]) -> subprocess.CompletedProcess[str]:
    from kgbuild.testing.neo4j_server import admin_tool

    return admin_tool(command[1:], home, folder)


def run_script(folder: Path, home: Path) -> subprocess.CompletedProcess[str]:
    """``import.sh`` from another folder, with ``NEO4J_ADMIN`` a wrapper around the Maven classpath's tool."""
    from kgbuild.testing.neo4j_server import JVM_OPTIONS, build_launcher

    _, classpath = build_launcher()
    (home / "conf").mkdir(parents=True, exist_ok=True)
    tool = home / "neo4j-admin"
    tool.write_text(f'#!/bin/sh\nexec java -Xmx1024m {" ".join(JVM_OPTIONS)} -cp "{classpath}" '
                    'org.neo4j.cli.AdminTool "$@"\n', encoding="utf-8")
    tool.chmod(0o755)
    env = {**os.environ, "NEO4J_ADMIN": str(tool), "NEO4J_HOME": str(home), "NEO4J_CONF": str(home / "conf")}
    return subprocess.run([str(folder / "import.sh")], cwd=home, env=env, capture_output=True, text=True,
                          timeout=600)


def test_an_imported_database_is_the_online_writers_graph(neo4j_config: Neo4jConfig, tmp_path: Path) -> None:
    from kgbuild.testing.neo4j_server import neo4j_server

    online = Neo4jStore(neo4j_config)
    online.ensure_schema(SCHEMA)
    online.query("MATCH (n) DETACH DELETE n", write=True)
    embedded = EmbeddedStore(tmp_path / "g.lbug")
    try:
        build(online)
        build(embedded)
        written = export_neo4j_import(embedded, SCHEMA, tmp_path / "import")
        home = tmp_path / "home"
        result = run_import(tmp_path / "import", home, written.command)
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
        expected = dump(online)
        with neo4j_server(home=home) as server:
            imported = Neo4jStore(server.config())
            try:
                imported.ensure_schema(SCHEMA)  # what kgbuild's first writable connection does
                same(dump(imported), expected)
                assert sum(len(part) for part in expected) == written.nodes + written.relationships
                # incremental: the same triples again write nothing; a new document writes itself
                imported.counters = type(imported.counters)()
                imported.write_triples(list(embedded.iter_triples()))
                assert imported.counters.nodes_created == imported.counters.relationships_created == 0
                assert imported.counters.properties_set == 0
                later = DocumentRecord("doc-c", "news/c.txt", "hash-c")
                text = "Bo Li works for ESA."
                new = [fact("doc-c", text, text, ("Bo Li", "PERSON", "Bo Li"), "works_for", ("ESA", "ORG", "ESA"))]
                for store in (imported, online):
                    store.replace_document(later, new)
                same(dump(imported), dump(online))
            finally:
                imported.close()
    finally:
        online.close()
        embedded.close()


def test_a_database_that_holds_data_is_refused_and_kept(tmp_path: Path) -> None:
    embedded = EmbeddedStore(tmp_path / "g.lbug")
    try:
        embedded.ensure_schema(SCHEMA)
        embedded.replace_document(DOC_A, esa_facts())
        written = export_neo4j_import(embedded, SCHEMA, tmp_path / "import")
    finally:
        embedded.close()
    home = tmp_path / "home"
    assert run_script(tmp_path / "import", home).returncode == 0  # import.sh as a user runs it
    store_files = sorted((p.relative_to(home), p.stat().st_size) for p in (home / "data").rglob("*") if p.is_file())
    again = run_import(tmp_path / "import", home, written.command)
    assert again.returncode != 0
    assert "Database already exist" in again.stderr  # the tool's own line, naming --overwrite-destination
    assert sorted((p.relative_to(home), p.stat().st_size) for p in (home / "data").rglob("*") if p.is_file()) \
        == store_files


def test_the_script_names_every_file_in_order(tmp_path: Path) -> None:
    embedded = EmbeddedStore(tmp_path / "g.lbug")
    try:
        embedded.ensure_schema(SCHEMA)
        embedded.replace_document(DOC_B, awkward_facts(), aliases=AWKWARD_ALIASES)
        written = export_neo4j_import(embedded, SCHEMA, tmp_path / "import", database="kg")
    finally:
        embedded.close()
    script = (tmp_path / "import" / "import.sh").read_text(encoding="utf-8")
    options = [part for part in written.command if part.startswith(("--nodes", "--relationships"))]
    assert [o.split("=", 1)[0] for o in options] == ["--nodes"] * 5 + ["--relationships"] * 3
    positions = [script.index(option) for option in options]
    assert positions == sorted(positions) and '"${1:-kg}"' in script
    delimiter = written.command[5].split("=", 1)[1]
    assert delimiter == "\x1d"  # \x1f and \x1e stand in aliases, which the importer splits on it
    assert f"printf '\\{ord(delimiter):03o}'" in script
    run: Any = subprocess.run(["sh", "-n", str(tmp_path / "import" / "import.sh")], capture_output=True)
    assert run.returncode == 0


def test_the_cli_writes_the_files_and_says_how_to_load_them(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kgbuild.cli import app

    graph = tmp_path / "g.lbug"
    embedded = EmbeddedStore(graph)
    try:
        embedded.ensure_schema(SCHEMA)
        embedded.replace_document(DOC_A, esa_facts())
    finally:
        embedded.close()
    result = CliRunner().invoke(app, ["export", str(tmp_path / "out"), "--format", "neo4j-import",
                                      "--store-path", str(graph)])
    assert result.exit_code == 0, result.output
    # 4 entities, 1 document, 2 sentences, 3 evidence records; 3 facts, 2 HAS_SENTENCE, 5 MENTIONED_IN
    assert "wrote 10 nodes and 10 relationships" in " ".join(result.output.split()) and "import.sh" in result.output
    assert (tmp_path / "out" / "facts.csv").read_text(encoding="utf-8").count("WORKS_FOR") == 2
    result = CliRunner().invoke(app, ["export", str(tmp_path / "x"), "--format", "csv", "--store-path", str(graph)])
    assert result.exit_code != 0 and "neo4j-import" in result.output
