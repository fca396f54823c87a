"""The review page in a real browser: Debian's headless Chromium driven by Selenium.

It lists stored triples, a reviewer corrects one, and the graph and the correction bank both change;
requests without the run's token are refused, and entity text stays text (no script runs).
"""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.store import DocumentRecord
from kgbuild.schema import RelationSchema
from kgbuild.types import Entity, Evidence, Triple

TOKEN = "test-token-123"
HOSTILE = "<script>window.pwned=1</script>"


def sentence_triple(sentence: str, head: tuple[str, str], label: str, tail: tuple[str, str],
                    confidence: float, doc: str = "d1") -> Triple:
    h, t = sentence.index(head[0]), sentence.index(tail[0])
    evidence = Evidence(doc, 0, sentence, 100 + h, 100 + h + len(head[0]), 100 + t, 100 + t + len(tail[0]),
                        confidence, "test-model", head[0], tail[0], sentence_start=100)
    return Triple(Entity(*head), label, Entity(*tail), evidence)


@pytest.fixture
def served(tmp_path: Path, default_schema: RelationSchema) -> Iterator[dict[str, Any]]:
    import uvicorn

    from kgbuild.web.review_app import review_app

    store = EmbeddedStore(tmp_path / "graph.lbug")
    store.ensure_schema(default_schema)
    triples = [sentence_triple("Maria Delgado moved to Madrid in 2001.", ("Maria Delgado", "PERSON"), "works_for",
                               ("Madrid", "GPE"), 0.41),
               sentence_triple("Ann Lee works for Acme.", ("Ann Lee", "PERSON"), "works_for", ("Acme", "ORG"), 0.93),
               sentence_triple(f"{HOSTILE} joined Acme.", (HOSTILE, "PERSON"), "works_for", ("Acme", "ORG"), 0.88)]
    store.replace_document(DocumentRecord("d1", "/d1.txt", "h1"), triples, aliases=[])
    bank = tmp_path / "corrections.jsonl"
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(review_app(store, default_schema, bank, TOKEN, "tester"),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    yield {"url": f"http://127.0.0.1:{port}", "store": store, "bank": bank}
    server.should_exit = True
    thread.join(10)
    store.close()


def test_a_correction_in_the_browser_changes_the_graph_and_the_bank(served: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    browser.get(f"{served['url']}/?token={TOKEN}")
    rows = browser.find_elements(By.CSS_SELECTOR, "tbody tr")
    assert [r.get_attribute("data-head") for r in rows] == ["Maria Delgado", HOSTILE, "Ann Lee"]  # least sure first
    first = rows[0]
    assert first.find_element(By.CSS_SELECTOR, "mark.head").text == "Maria Delgado"
    assert first.find_element(By.CSS_SELECTOR, "mark.tail").text == "Madrid"
    Select(first.find_element(By.NAME, "label")).select_by_value("lives_in")
    first.find_element(By.CSS_SELECTOR, "button[value=relabel]").click()
    message = WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.ID, "message"))  # after the redirect
    assert "works_for → lives_in" in message[0].text

    rows = served["store"].query("MATCH (h:Entity)-[r]->(t:Entity) WHERE h.name = 'Maria Delgado' "
                                 "MATCH (v:Evidence) WHERE v.head_key = h.key AND v.rel_type = label(r) "
                                 "RETURN label(r), v.record").rows
    assert len(rows) == 1 and rows[0][0] == "LIVES_IN"
    evidence = json.loads(rows[0][1])
    assert evidence["reviewed_by"] == "tester" and evidence["reviewed_at"]
    lines = served["bank"].read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    decision = json.loads(lines[0])
    assert (decision["decision"], decision["old_label"], decision["label"], decision["head_start"]) == \
        ("relabel", "works_for", "lives_in", 0)
    reviewed = browser.find_element(By.CSS_SELECTOR, "tbody tr:last-child")  # reviewed rows go last
    assert reviewed.get_attribute("data-head") == "Maria Delgado" and "reviewed by tester" in reviewed.text


def test_entity_text_is_escaped(served: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{served['url']}/?token={TOKEN}")
    assert browser.execute_script("return window.pwned") is None
    cells = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "td.head-name")]
    assert HOSTILE in cells
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt;" in browser.page_source


def test_requests_without_the_token_are_refused(served: dict[str, Any]) -> None:
    def status(url: str, data: dict[str, str] | None = None) -> int:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=10) as response:
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code

    before = served["store"].query("MATCH ()-[r]->() RETURN count(r)").rows
    assert status(f"{served['url']}/") == 403
    assert status(f"{served['url']}/?token=wrong") == 403
    assert status(f"{served['url']}/decide", {"id": "x", "decision": "reject"}) == 403
    assert status(f"{served['url']}/decide", {"id": "x", "decision": "reject", "token": "wrong"}) == 403
    assert served["store"].query("MATCH ()-[r]->() RETURN count(r)").rows == before
    assert not served["bank"].exists()


def test_decisions_accept_mark_wrong_spans_and_refuse_unknown_labels(served: dict[str, Any],
                                                                      default_schema: RelationSchema) -> None:
    from kgbuild.errors import InputError
    from kgbuild.workflows.review import decide, review_items

    store, bank = served["store"], served["bank"]
    first, second, third = review_items(store)
    decide(store, default_schema, bank, third, "accept", reviewer="ana")
    decide(store, default_schema, bank, first, "wrong_entity", wrong="tail", reviewer="ana")
    with pytest.raises(InputError, match="not in schema"):
        decide(store, default_schema, bank, second, "relabel", "founder_of", reviewer="ana")
    with pytest.raises(InputError, match="unknown decision"):
        decide(store, default_schema, bank, second, "delete", reviewer="ana")
    lines = [json.loads(line) for line in bank.read_text(encoding="utf-8").splitlines()]
    assert [(d["decision"], d["label"], d["wrong"]) for d in lines] == \
        [("accept", "works_for", ""), ("wrong_entity", "works_for", "tail")]
    left = {(t.head.name, t.label, t.evidence.reviewed_by) for t in store.iter_triples()}
    assert left == {("Ann Lee", "works_for", "ana"), (HOSTILE, "works_for", "")}


def test_the_page_links_to_the_graph_view_as_a_download(served: dict[str, Any], browser: Any) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{served['url']}/?token={TOKEN}")
    link = browser.find_element(By.ID, "graph-link").get_attribute("href")
    assert link == f"{served['url']}/graph.html?token={TOKEN}"
    with urllib.request.urlopen(link, timeout=30) as response:
        assert response.headers["Content-Disposition"] == 'attachment; filename="kgbuild-graph.html"'
        page = response.read().decode("utf-8")
    assert 'id="graph-data"' in page and "Maria Delgado" in page and HOSTILE not in page
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{served['url']}/graph.html?token=wrong", timeout=10)
    assert refused.value.code == 403
