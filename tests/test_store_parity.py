"""Same folder into the embedded store and into Neo4j: same triples, same evidence, same answers."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from kgbuild.config import Neo4jConfig, load_pipeline
from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.export import sorted_triples
from kgbuild.graph.neo4j_store import Neo4jStore
from kgbuild.workflows.ingest import Ingestor

pytestmark = [pytest.mark.neo4j, pytest.mark.model]

REPO = Path(__file__).resolve().parent.parent
DOCS = ["02-harbor-bridge.txt", "06-startup.txt", "09-football.txt"]


def readme_queries() -> list[tuple[str, str]]:
    """The documented example queries, as (embedded, neo4j) pairs taken from the README table."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("### Example queries", 1)[1].split("\n## ", 1)[0]
    pairs = []
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[1].startswith("`MATCH"):
            continue
        embedded = re.findall(r"`([^`]+)`", cells[1])[0]
        neo = cells[2]
        if neo.startswith("same"):
            neo_query = embedded.replace("label(r)", "type(r)")
        else:
            neo_query = embedded.replace("list_contains(r.doc_ids, $doc)", "$doc IN r.doc_ids")
        pairs.append((embedded, neo_query))
    assert len(pairs) >= 4, "the README's example-query table changed shape"
    return pairs


def canonical_rows(rows: list[list[Any]]) -> list[str]:
    return sorted(repr(row) for row in rows)


def test_embedded_and_neo4j_hold_the_same_graph(neo4j_config: Neo4jConfig, nlp: Any, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in DOCS:
        shutil.copy(REPO / "examples" / "docs" / name, folder / name)
    ingestor = Ingestor(load_pipeline(REPO / "pipelines" / "default.yaml"), nlp=nlp)
    embedded = EmbeddedStore(tmp_path / "g.lbug")
    neo = Neo4jStore(neo4j_config)
    try:
        neo.ensure_schema(ingestor.schema)
        neo.query("MATCH (n) DETACH DELETE n", write=True)
        first = ingestor.ingest(folder, embedded)
        second = ingestor.ingest(folder, neo)
        assert first.triples == second.triples > 0
        assert sorted_triples(embedded) == sorted_triples(neo)
        assert embedded.stats() == neo.stats() and embedded.stats().lexical["MENTIONED_IN"] > 0
        doc_id = next(iter(embedded.documents().values())).id
        params = {"name": sorted_triples(embedded)[0].head.name, "doc": doc_id, "file": DOCS[0]}
        for embedded_query, neo_query in readme_queries():
            used = {k: v for k, v in params.items() if f"${k}" in embedded_query}
            left = embedded.query(embedded_query, used).rows
            right = neo.query(neo_query, used).rows
            assert canonical_rows(left) == canonical_rows(right), embedded_query
    finally:
        embedded.close()
        neo.close()
