"""LadybugDB node writes as lookups and CREATEs (kgbuild.graph.ladybug_nodes): the same graph ``MERGE`` gave,
without the statement whose cost grew with the table."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graph_cases import SCHEMA, make_triple

from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.ladybug_connection import RENEW_AFTER_ROWS, ConnectionAge
from kgbuild.graph.ladybug_nodes import ALIASES, ENTITIES, SENTENCES, upsert_nodes
from kgbuild.graph.store import DocumentRecord
from kgbuild.types import Alias

NODE_MERGE = re.compile(r"MERGE \(\w*:")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    graph = EmbeddedStore(tmp_path / "graph.lbug")
    graph.ensure_schema(SCHEMA)
    yield graph
    graph.close()


def upsert(store: EmbeddedStore, table: Any, rows: list[dict[str, Any]]) -> None:
    upsert_nodes(store._run, store._rows, table, rows)


def test_new_nodes_are_created_and_an_existing_sentence_keeps_its_values(store: EmbeddedStore) -> None:
    row = {"id": "d:0-5", "doc_id": "d", "position": 0, "start_char": 0, "text": "First"}
    upsert(store, SENTENCES, [row])
    upsert(store, SENTENCES, [{**row, "text": "Second"}, {**row, "id": "d:6-9", "start_char": 6, "text": "New"}])
    rows = store.query("MATCH (s:Sentence) RETURN s.id, s.text ORDER BY s.id").rows
    assert rows == [["d:0-5", "First"], ["d:6-9", "New"]]  # ON CREATE semantics: the first text stays


def test_an_existing_alias_is_overwritten_and_a_repeated_key_keeps_its_last_row(store: EmbeddedStore) -> None:
    first = Alias("Acme", "ORG", "acme corp|ORG", "abbreviation", 0.9, "d1").to_row()
    upsert(store, ALIASES, [first])
    undone = {**first, "undone": True, "score": 0.5}
    upsert(store, ALIASES, [{**first, "reason": "other"}, undone])
    assert store.query("MATCH (a:Alias) RETURN a.id, a.score, a.undone, a.reason").rows == [
        [first["id"], 0.5, True, "abbreviation"]]


def test_entity_aliases_change_only_when_they_differ(store: EmbeddedStore) -> None:
    upsert(store, ENTITIES, [{"key": "acme|ORG", "name": "Acme", "type": "ORG", "aliases": []}])
    upsert(store, ENTITIES, [{"key": "acme|ORG", "name": "ACME", "type": "ORG", "aliases": ["Acme Corp"]}])
    assert store.query("MATCH (e:Entity) RETURN e.name, e.aliases").rows == [["Acme", ["Acme Corp"]]]


def test_the_store_never_merges_a_node(store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """LadybugDB's node ``MERGE`` grows with the table (docs/PERFORMANCE.md); a write must not bring it back."""
    statements: list[str] = []
    real = store._run

    def recording(cypher: str, params: dict[str, Any] | None = None) -> Any:
        statements.append(cypher)
        return real(cypher, params)

    monkeypatch.setattr(store, "_run", recording)
    triples = [make_triple("Ann", "works_for", "Acme", doc="d1")]
    store.replace_document(DocumentRecord("d1", "/d1", "h1"), triples)
    store.replace_document(DocumentRecord("d2", "/d2", "h2"), triples, previous=DocumentRecord("d1", "/d1", "h1"))
    store.write_triples([make_triple("Bo", "works_for", "Acme", doc="d3")])
    node_merges = [s for s in statements if NODE_MERGE.search(s)]  # ``MERGE (h)-[r:T]->(t)`` is an edge's
    assert not node_merges
    assert store.query("MATCH (d:Document) RETURN d.id").rows == [["d2"]]
    assert store.query("MATCH (e:Entity) RETURN e.name ORDER BY e.name").rows == [["Acme"], ["Ann"], ["Bo"]]


def test_connection_age_renews_after_the_process_doubles_what_it_wrote() -> None:
    age = ConnectionAge()
    age.wrote(RENEW_AFTER_ROWS)
    assert not age.outgrown()
    age.wrote(1)
    assert age.outgrown()
    age.renewed()
    age.wrote(RENEW_AFTER_ROWS + 1)
    assert not age.outgrown()  # the next one only after as many rows again as before it
    age.wrote(RENEW_AFTER_ROWS)
    assert age.outgrown()


def test_a_write_after_the_graph_grew_runs_on_a_new_connection_and_loses_nothing(
        store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """Plans prepared on a small graph stay bad as it grows (kgbuild.graph.ladybug_connection)."""
    monkeypatch.setattr("kgbuild.graph.ladybug_connection.RENEW_AFTER_ROWS", 3)
    first = store._conn
    store.replace_document(DocumentRecord("d1", "/d1", "h1"), [make_triple("Ann", "works_for", "Acme", doc="d1")])
    assert store._conn is first  # 6 rows: 2 entities, 1 edge, 1 sentence, 2 mentions; renewed at the next write
    store.replace_document(DocumentRecord("d2", "/d2", "h2"), [make_triple("Bo", "works_for", "Acme", doc="d2")])
    second = store._conn
    assert second is not first
    store.write_triples([make_triple("Cy", "works_for", "Acme", doc="d3")])
    assert store._conn is second  # 6 rows written before the renewal: the next after 6 more
    assert store.query("MATCH (e:Entity)-[r:WORKS_FOR]->(:Entity) RETURN e.name ORDER BY e.name").rows == [
        ["Ann"], ["Bo"], ["Cy"]]
    assert sorted(store.documents()) == ["/d1", "/d2"]
