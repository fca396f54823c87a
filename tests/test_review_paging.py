"""The review page at scale: paged in the store (never the whole graph read for a page or a decision), a
confidence filter, reviewed facts after the others, and store work off the event loop."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from graph_cases import SCHEMA, make_triple
from starlette.testclient import TestClient

from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.workflows.review import review_page

TOKEN = "paging-token-789"
HEADS = [f"Person {n}" for n in range(7)]  # confidence 0.1, 0.2, ... 0.7


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    graph = EmbeddedStore(tmp_path / "graph.lbug")
    graph.ensure_schema(SCHEMA)
    graph.write_triples([make_triple(head, "works_for", f"Org {n}", sentence=f"{head} works for Org {n}.",
                                     index=n, confidence=round((n + 1) / 10, 1)) for n, head in enumerate(HEADS)])
    yield graph
    graph.close()


def whole_graph_reads_fail(store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, Any]]:
    """Reading every triple, or every fact at once, raises; the pages the store was asked for are recorded."""
    asked: list[tuple[int, Any]] = []
    real = store.facts_page

    def paged(skip: int = 0, limit: int | None = None, min_confidence: float = 0.0) -> Any:
        assert limit is not None, "the page read the whole graph"
        asked.append((skip, limit))
        return real(skip, limit, min_confidence)

    def everything() -> Any:
        raise AssertionError("the page read every triple")

    monkeypatch.setattr(store, "facts_page", paged)
    monkeypatch.setattr(store, "iter_triples", everything)
    return asked


def heads(html: str) -> list[str]:
    return re.findall(r'class="head-name">([^<]*)<', html)


def test_pages_come_from_the_store_least_confident_first(store: EmbeddedStore) -> None:
    first, second, last = (review_page(store, SCHEMA, n, size=3) for n in (1, 2, 3))
    assert (first.total, first.pages) == (7, 3)
    assert [i.triple.head.name for i in first.rows.items] == HEADS[:3]
    assert [i.triple.head.name for i in second.rows.items] == HEADS[3:6]
    assert [i.triple.head.name for i in last.rows.items] == HEADS[6:]
    filtered = review_page(store, SCHEMA, 1, min_confidence=0.45, size=3)
    assert filtered.total == 3 and [i.triple.head.name for i in filtered.rows.items] == HEADS[4:]


def test_the_page_and_its_decisions_never_read_the_whole_graph(store: EmbeddedStore, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from kgbuild.web import review_app as app_module

    monkeypatch.setattr(app_module, "review_page",
                        lambda s, schema, page, floor: review_page(s, schema, page, floor, size=3))
    asked = whole_graph_reads_fail(store, monkeypatch)
    client = TestClient(app_module.review_app(store, SCHEMA, tmp_path / "bank.jsonl", TOKEN, "ana"),
                        follow_redirects=False)
    html = client.get("/", params={"token": TOKEN, "page": 2}).text
    assert heads(html) == HEADS[3:6] and "page 2 of 3" in html and asked == [(3, 3)]
    assert 'id="previous"' in html and 'id="next"' in html
    row_id = re.search(r'<tr id="row-([0-9a-f]+)"', html).group(1)  # type: ignore[union-attr]
    made = client.post("/decide", data={"token": TOKEN, "id": row_id, "decision": "accept", "page": "2",
                                        "min_confidence": "0.25"})
    assert made.status_code == 303, made.text
    assert "page=2" in made.headers["location"] and "min_confidence=0.25" in made.headers["location"]
    assert asked == [(3, 3)]  # the decision read only the facts around its two entities
    filtered = client.get("/", params={"token": TOKEN, "min_confidence": "0.65"}).text
    assert heads(filtered) == HEADS[6:] and "1 facts at confidence 0.65 or more" in " ".join(filtered.split())


def test_a_reviewed_fact_goes_after_the_unreviewed(store: EmbeddedStore, tmp_path: Path) -> None:
    from kgbuild.workflows.review import decide

    lowest = review_page(store, SCHEMA, 1).rows.items[0]
    decide(store, SCHEMA, tmp_path / "bank.jsonl", lowest, "accept", reviewer="ana")
    order = [i.triple.head.name for i in review_page(store, SCHEMA, 1).rows.items]
    assert order == HEADS[1:] + HEADS[:1]


@pytest.mark.parametrize("query", [{"page": "0"}, {"page": "two"}, {"page": "9" * 30}, {"min_confidence": "1.5"},
                                   {"min_confidence": "-0.1"}, {"min_confidence": "nan"}])
def test_a_bad_page_or_filter_is_one_line(store: EmbeddedStore, tmp_path: Path, query: dict[str, str]) -> None:
    from kgbuild.web.review_app import review_app

    client = TestClient(review_app(store, SCHEMA, tmp_path / "bank.jsonl", TOKEN, "ana"))
    response = client.get("/", params={"token": TOKEN, **query})
    assert response.status_code == 400 and "\n" not in response.text.strip()


def test_store_work_leaves_the_event_loop_free(store: EmbeddedStore, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """While one request waits on a slow store, another request is answered."""
    from kgbuild.web.review_app import review_app

    real = store.facts_page

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(1.0)
        return real(*args, **kwargs)

    monkeypatch.setattr(store, "facts_page", slow)
    app = review_app(store, SCHEMA, tmp_path / "bank.jsonl", TOKEN, "ana")

    async def both() -> tuple[float, float]:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
            began = time.perf_counter()

            async def timed(params: dict[str, str]) -> float:
                await client.get("/", params=params)
                return time.perf_counter() - began

            page, refusal = await asyncio.gather(timed({"token": TOKEN}), timed({"token": "wrong"}))
            return page, refusal

    page, refusal = asyncio.run(both())
    assert page >= 1.0 and refusal < 0.5


def test_both_stores_page_and_find_facts_alike(both_stores: Any) -> None:
    both_stores.write_triples([make_triple(head, "works_for", f"Org {n % 2}", index=n, confidence=(n + 1) / 10)
                               for n, head in enumerate(HEADS)])
    rows, total = both_stores.facts_page(2, 3, 0.15)
    assert total == 6 and [r.head_name for r in rows] == HEADS[3:6]
    assert {r.label for r in rows} == {"works_for"} and {r.rel_type for r in rows} == {"WORKS_FOR"}
    assert all(isinstance(r.evidence, list) and len(r.evidence) == 1 for r in rows)
    touching = both_stores.facts_touching(["org 1|ORG"])
    assert sorted(r.head_name for r in touching) == [HEADS[1], HEADS[3], HEADS[5]]
