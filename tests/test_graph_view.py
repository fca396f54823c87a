"""``kgbuild view``: one HTML file that renders in headless Chromium without network, the right counts, a
click shows the evidence, and entity names stay text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from graph_cases import SCHEMA, make_triple
from typer.testing import CliRunner

from kgbuild.cli import app
from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.store import DocumentRecord
from kgbuild.graph.view import graph_data, render_view

HOSTILE = '</script><img src=x onerror="window.pwned=1">'


def facts() -> list[tuple[Any, str]]:
    return [(make_triple("Ann Lee", "works_for", "Acme", sentence="Ann Lee works for Acme.", confidence=0.9), "a.txt"),
            (make_triple("Ann Lee", "works_for", "Acme", doc="doc-2", sentence="Acme hired Ann Lee.",
                         confidence=0.7), "b.txt"),
            (make_triple("Bob Roe", "works_for", HOSTILE, doc="doc-3", sentence=f"Bob Roe works for {HOSTILE}.",
                         confidence=0.6), "c.txt"),
            (make_triple("Bob Roe", "lives_in", "Paris", doc="doc-3", tail_type="GPE", confidence=0.5), "c.txt")]


def test_one_relationship_per_triple_with_all_its_sentences() -> None:
    data = graph_data(facts())
    assert len(data["edges"]) == 3 and len(data["nodes"]) == 5 and data["types"] == ["GPE", "ORG", "PERSON"]
    first = data["edges"][0]
    assert (first["label"], first["support"], first["confidence"]) == ("works_for", 2, 0.9)
    assert [e["document"] for e in first["evidence"]] == ["a.txt", "b.txt"]
    limited = graph_data(facts(), limit=1)
    assert len(limited["edges"]) == 1 and limited["truncated"] and limited["total_edges"] == 3
    around = graph_data(facts(), entity="bob roe")
    assert {e["label"] for e in around["edges"]} == {"works_for", "lives_in"} and len(around["nodes"]) == 3


def test_names_cannot_close_the_data_script() -> None:
    html = render_view(graph_data(facts()))
    assert HOSTILE not in html and "</script><img" not in html
    assert html.count("</script>") == 3  # the data, Cytoscape.js and the page's own script
    assert "http://" not in html.split("<script>", 1)[0] and "default-src 'none'" in html


@pytest.fixture
def stored_graph(tmp_path: Path) -> Path:
    path = tmp_path / "g.lbug"
    store = EmbeddedStore(path)
    store.ensure_schema(SCHEMA)
    by_doc: dict[str, list[Any]] = {}
    for triple, name in facts():
        by_doc.setdefault(triple.evidence.doc_id, []).append((triple, name))
    for doc_id, items in by_doc.items():
        store.replace_document(DocumentRecord(doc_id, items[0][1], doc_id), [t for t, _ in items])
    store.close()
    return path


def test_the_page_renders_offline_and_a_click_shows_the_evidence(stored_graph: Path, tmp_path: Path,
                                                                  browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    out = tmp_path / "view.html"
    result = CliRunner().invoke(app, ["view", str(out), "--store-path", str(stored_graph)])
    assert result.exit_code == 0, result.output
    assert "5 entities, 3 relationships" in " ".join(result.output.split())  # however the console wraps
    browser.get(out.as_uri())
    WebDriverWait(browser, 20).until(lambda b: b.execute_script("return document.body.dataset.ready") == "true")
    assert browser.execute_script("return [kgbuildGraph.nodes().length, kgbuildGraph.edges().length]") == [5, 3]
    assert browser.execute_script("return window.pwned") is None
    assert not browser.find_elements(By.TAG_NAME, "img")
    browser.execute_script("kgbuildGraph.edges().filter(e => e.data('label') === 'works_for' "
                           "&& e.target().data('name').startsWith('</script>')).emit('tap')")
    details = browser.find_element(By.ID, "details").text
    assert f"Bob Roe works for {HOSTILE}." in details and "c.txt" in details and "confidence 0.600" in details
    assert browser.execute_script("return window.pwned") is None and not browser.find_elements(By.TAG_NAME, "img")
    search = browser.find_element(By.ID, "search")
    search.send_keys("ann")
    assert browser.execute_script("return kgbuildGraph.nodes('.match').map(n => n.data('name'))") == ["Ann Lee"]


def test_view_of_a_missing_entity_is_one_error_line(stored_graph: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["view", str(tmp_path / "v.html"), "--store-path", str(stored_graph),
                                      "--entity", "Nobody"])
    assert result.exit_code == 1 and "no stored relationship touches an entity named 'Nobody'" in result.output
    assert not (tmp_path / "v.html").exists()
