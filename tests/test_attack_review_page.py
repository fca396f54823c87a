"""The review page under attack: security headers on every answer, invalid decisions refused without a
trace, one unreadable evidence record shown as one broken row, corrections never written out of their
folder, and a page that stays on this machine unless the reviewer says otherwise."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graph_cases import SCHEMA, make_triple
from starlette.testclient import TestClient
from typer.testing import CliRunner

from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.types import Triple

TOKEN = "attack-token-456"
REQUIRED_HEADERS = {
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
}
ROW = re.compile(r'<tr id="(row|broken)-([0-9a-f]+)"[^>]*>(.*?)</tr>', re.S)


def sentence_triple(head: str, tail: str, confidence: float, label: str = "works_for") -> Triple:
    return make_triple(head, label, tail, sentence=f"{head} works for {tail}.", confidence=confidence)


@pytest.fixture
def page(tmp_path: Path) -> Iterator[dict[str, Any]]:
    from kgbuild.web.review_app import review_app

    store = EmbeddedStore(tmp_path / "graph.lbug")
    store.ensure_schema(SCHEMA)
    store.write_triples([sentence_triple("Ann Lee", "Acme", 0.4), sentence_triple("Bob Ray", "Initech", 0.7)])
    bank = tmp_path / "bank" / "corrections.jsonl"
    client = TestClient(review_app(store, SCHEMA, bank, TOKEN, "tester"), follow_redirects=False)
    yield {"client": client, "store": store, "bank": bank, "tmp": tmp_path}
    client.close()
    store.close()


def graph(store: EmbeddedStore) -> list[list[Any]]:
    """Each edge with its properties and evidence records."""
    edges = store.query("MATCH (h:Entity)-[r]->(t:Entity) RETURN h.key, label(r), t.key, r.support, r.confidence "
                        "ORDER BY h.key, t.key").rows
    records = store.query("MATCH (v:Evidence) RETURN v.head_key, v.rel_type, v.tail_key, v.record").rows
    return [[*edge, sorted(r[3] for r in records if (r[0], r[1], r[2]) == tuple(edge[:3]))] for edge in edges]


def rows(html: str) -> list[tuple[str, str, str]]:
    return ROW.findall(html)


def ids(client: TestClient) -> dict[str, str]:
    """Head name → row id of the readable rows."""
    html = client.get("/", params={"token": TOKEN}).text
    return {re.search(r'class="head-name">([^<]*)<', body).group(1): row_id  # type: ignore[union-attr]
            for kind, row_id, body in rows(html) if kind == "row"}


def break_evidence(store: EmbeddedStore, head: str, tail: str, records: list[str]) -> None:
    """Write ``records`` as the stored evidence records of the head→tail edge, as a damaged store would hold."""
    store.write_triples([sentence_triple(head, tail, 0.5)])
    [(head_key, rel_type, tail_key)] = store.query(
        "MATCH (h:Entity)-[r]->(t:Entity) WHERE h.name = $h AND t.name = $t RETURN h.key, label(r), t.key",
        {"h": head, "t": tail}).rows
    fact = {"h": head_key, "type": rel_type, "t": tail_key}
    store.query("MATCH (v:Evidence) WHERE v.head_key = $h AND v.rel_type = $type AND v.tail_key = $t DELETE v",
                fact, write=True)
    for number, record in enumerate(records):
        store.query("CREATE (:Evidence {id: $id, head_key: $h, rel_type: $type, tail_key: $t, doc_id: 'd', "
                    "sentence_id: 'd:#0', confidence: 0.5, model: 'm', reviewed_by: '', record: $record})",
                    {**fact, "id": f"broken-{head_key}-{number}", "record": record}, write=True)


# -- headers ----------------------------------------------------------------------------------------------
def test_every_response_carries_the_security_headers(page: dict[str, Any]) -> None:
    client = page["client"]
    row_id = ids(client)["Ann Lee"]
    responses = {
        "page": client.get("/", params={"token": TOKEN}),
        "no token": client.get("/"),
        "wrong token": client.post("/decide", data={"token": "nope", "id": row_id, "decision": "accept"}),
        "wrong method": client.get("/decide"),
        "no route": client.get("/favicon.ico"),
        "bad decision": client.post("/decide", data={"token": TOKEN, "id": row_id, "decision": "delete"}),
        "decision": client.post("/decide", data={"token": TOKEN, "id": row_id, "decision": "accept"}),
    }
    assert [r.status_code for r in responses.values()] == [200, 403, 403, 405, 404, 400, 303]
    for what, response in responses.items():
        for name, value in REQUIRED_HEADERS.items():
            assert response.headers.get(name) == value, (what, name)
        policy = {d.split()[0]: d.split()[1:] for d in response.headers["content-security-policy"].split("; ")}
        assert policy["default-src"] == ["'none'"] and policy["form-action"] == ["'self'"], what
        assert policy["frame-ancestors"] == ["'none'"] and policy["base-uri"] == ["'none'"], what
        assert "script-src" not in policy and "'unsafe-inline'" not in policy.get("style-src", []), what

    html = responses["page"].text
    style = re.search(r"<style>(.*?)</style>", html, re.S).group(1)  # type: ignore[union-attr]
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert responses["page"].headers["content-security-policy"].count(f"'sha256-{digest}'") == 1
    assert "<script" not in html and not re.search(r"\son[a-z]+=", html)  # nothing the policy would block


def test_an_oversized_request_body_is_refused_with_the_headers(page: dict[str, Any]) -> None:
    response = page["client"].post("/decide", data={"token": TOKEN, "id": "x" * 100_000, "decision": "accept"})
    assert response.status_code == 413
    assert response.headers.get("referrer-policy") == "no-referrer"
    assert not page["bank"].exists()


# -- decisions --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("form", "status"), [
    ({"decision": "delete"}, 400),
    ({"decision": ""}, 400),
    ({}, 400),
    ({"decision": "relabel", "label": "founder_of"}, 400),
    ({"decision": "relabel", "label": ""}, 400),
    ({"decision": "wrong_entity", "wrong": "middle"}, 400),
    ({"decision": "wrong_entity"}, 400),
    ({"decision": "accept", "id": ""}, 400),
    ({"decision": "accept", "id": None}, 400),
    ({"decision": "accept", "id": "0" * 20}, 404),
])
def test_invalid_decisions_are_refused_and_change_nothing(page: dict[str, Any], form: dict[str, Any],
                                                          status: int) -> None:
    client, store = page["client"], page["store"]
    before = graph(store)
    data = {"token": TOKEN, "id": ids(client)["Ann Lee"], **form}
    response = client.post("/decide", data={k: v for k, v in data.items() if v is not None})
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert 0 < len(response.text) < 300 and "\n" not in response.text.strip()
    assert "location" not in response.headers
    assert not page["bank"].exists()
    assert graph(store) == before


def test_wrong_span_buttons_post_a_wrong_entity_decision_without_script(page: dict[str, Any]) -> None:
    client = page["client"]
    html = client.get("/", params={"token": TOKEN}).text
    assert 'value="wrong_head"' in html and 'value="wrong_tail"' in html and "onclick" not in html
    response = client.post("/decide", data={"token": TOKEN, "id": ids(client)["Ann Lee"], "decision": "wrong_tail",
                                            "label": "works_for"})
    assert response.status_code == 303 and response.headers["location"].startswith("/?token=")
    (line,) = page["bank"].read_text(encoding="utf-8").splitlines()
    assert (json.loads(line)["decision"], json.loads(line)["wrong"]) == ("wrong_entity", "tail")
    assert [t.head.name for t in page["store"].iter_triples()] == ["Bob Ray"]


# -- unreadable evidence ----------------------------------------------------------------------------------
def test_one_malformed_evidence_record_is_one_broken_row(page: dict[str, Any]) -> None:
    client, store = page["client"], page["store"]
    good = json.loads(sentence_triple("Eve Bad", "Evil Corp", 0.5).evidence.to_json())
    broken = ["not json {", json.dumps({"doc_id": "d"}), json.dumps([1, 2]),
              json.dumps({**good, "confidence": "high"}), json.dumps({**good, "sentence": None})]
    break_evidence(store, "Eve Bad", "Evil Corp", broken)

    response = client.get("/", params={"token": TOKEN})
    assert response.status_code == 200
    found = rows(response.text)
    bad = [body for kind, _, body in found if kind == "broken"]
    assert len(bad) == len(broken)
    assert all("unreadable evidence record" in body and "<form" not in body and "Eve Bad" in body for body in bad)
    assert "not json {" in response.text  # the stored text is shown, as text
    good_rows = [body for kind, _, body in found if kind == "row"]
    assert len(good_rows) == 2 and all("<form" in body for body in good_rows)

    broken_id = next(row_id for kind, row_id, _ in found if kind == "broken")
    before = graph(store)
    refused = client.post("/decide", data={"token": TOKEN, "id": broken_id, "decision": "accept"})
    assert refused.status_code == 409 and graph(store) == before and not page["bank"].exists()

    made = client.post("/decide", data={"token": TOKEN, "id": ids(client)["Ann Lee"], "decision": "relabel",
                                        "label": "lives_in"})
    assert made.status_code == 303
    assert len(page["bank"].read_text(encoding="utf-8").splitlines()) == 1
    labels = {(h, label) for h, label, *_ in graph(store)}
    assert labels == {("ann lee|PERSON", "LIVES_IN"), ("bob ray|PERSON", "WORKS_FOR"),
                      ("eve bad|PERSON", "WORKS_FOR")}
    assert client.get("/", params={"token": TOKEN}).status_code == 200


def test_a_decision_next_to_an_unreadable_record_is_refused(page: dict[str, Any]) -> None:
    client, store = page["client"], page["store"]
    break_evidence(store, "Ann Lee", "Evil Corp", ["{broken"])  # shares Ann Lee with a readable triple
    ann = ids(client)["Ann Lee"]
    before = graph(store)
    response = client.post("/decide", data={"token": TOKEN, "id": ann, "decision": "reject"})
    assert response.status_code == 409 and "unreadable" in response.text
    assert graph(store) == before and not page["bank"].exists()
    bob = client.post("/decide", data={"token": TOKEN, "id": ids(client)["Bob Ray"], "decision": "accept"})
    assert bob.status_code == 303


def test_review_items_survive_a_malformed_record(tmp_path: Path) -> None:
    from kgbuild.workflows.review import review_rows

    store = EmbeddedStore(tmp_path / "g.lbug")
    store.ensure_schema(SCHEMA)
    store.write_triples([sentence_triple("Ann Lee", "Acme", 0.4)])
    break_evidence(store, "Eve Bad", "Evil Corp", ['{"doc_id": 1}', "[]"])
    result = review_rows(store, SCHEMA)
    assert [i.triple.head.name for i in result.items] == ["Ann Lee"]
    assert result.items[0].triple.label == "works_for"
    assert len(result.broken) == 2 and {b.label for b in result.broken} == {"works_for"}
    assert all(b.keys == {"eve bad|PERSON", "evil corp|ORG"} for b in result.broken)
    store.close()


# -- the bank ---------------------------------------------------------------------------------------------
def test_corrections_are_never_written_through_a_link_out_of_their_folder(page: dict[str, Any]) -> None:
    client, store, bank = page["client"], page["store"], page["bank"]
    outside = page["tmp"] / "elsewhere" / "target.jsonl"
    outside.parent.mkdir()
    bank.parent.mkdir()
    bank.symlink_to(outside)
    before = graph(store)
    response = client.post("/decide", data={"token": TOKEN, "id": ids(client)["Ann Lee"], "decision": "accept"})
    assert response.status_code == 500 and "link" in response.text
    assert response.headers.get("cache-control") == "no-store"
    assert not outside.exists() and graph(store) == before


# -- the command ------------------------------------------------------------------------------------------
@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Calls to uvicorn.run, which never starts a server here."""
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: calls.append(kwargs))
    return calls


def review(tmp_path: Path, *args: str) -> Any:
    from kgbuild.cli import app

    return CliRunner().invoke(app, ["review", "--store-path", str(tmp_path / "g.lbug"), *args])


def one_error_line(result: Any) -> str:
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # a handled error, not a crash
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "Traceback" not in result.output, result.output
    return str(lines[0])


@pytest.mark.parametrize("port", ["99999", "65536", "0", "-1"])
def test_a_port_out_of_range_is_one_line(tmp_path: Path, served: list[dict[str, Any]], port: str) -> None:
    line = one_error_line(review(tmp_path, "--port", port))
    assert "--port" in line and "65535" in line
    assert served == []


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org", "localhost.evil.example"])
def test_binding_beyond_loopback_needs_allow_remote(tmp_path: Path, served: list[dict[str, Any]],
                                                    host: str) -> None:
    line = one_error_line(review(tmp_path, "--host", host))
    assert "--allow-remote" in line and served == []

    allowed = review(tmp_path, "--host", host, "--allow-remote")
    assert allowed.exit_code == 0, allowed.output
    assert "warning:" in allowed.stderr and "plain HTTP" in allowed.stderr and "token" in allowed.stderr
    assert served == [{"host": host, "port": 8765, "log_level": "warning"}]


def test_loopback_needs_no_flag_and_gets_a_working_url(tmp_path: Path, served: list[dict[str, Any]]) -> None:
    hosts = {"127.0.0.1": "http://127.0.0.1:8765/", "127.3.2.1": "http://127.3.2.1:8765/",
             "localhost": "http://localhost:8765/", "::1": "http://[::1]:8765/", "[::1]": "http://[::1]:8765/"}
    for host, url in hosts.items():
        result = review(tmp_path, "--host", host)
        assert result.exit_code == 0, result.output
        assert "warning" not in result.output and f"review page: {url}?token=" in result.stdout, host
        assert served.pop() == {"host": host.strip("[]"), "port": 8765, "log_level": "warning"}
