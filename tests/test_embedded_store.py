"""The embedded LadybugDB store: what only it does (the shared contract is in test_store_contract.py)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graph_cases import SCHEMA, make_triple, stored

from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.evidence_records import record_rows
from kgbuild.graph.ladybug_connection import RENEW_AFTER_ROWS, ConnectionAge
from kgbuild.graph.ladybug_nodes import ALIASES, ENTITIES, SENTENCES, upsert_nodes
from kgbuild.graph.store import DocumentRecord, StoreError
from kgbuild.types import Alias

NODE_MERGE = re.compile(r"MERGE \(\w*:")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    graph = EmbeddedStore(tmp_path / "graph.lbug")
    graph.ensure_schema(SCHEMA)
    yield graph
    graph.close()


def test_read_only_store_refuses_writes_natively(tmp_path: Path) -> None:
    path = tmp_path / "g.lbug"
    graph = EmbeddedStore(path)
    graph.ensure_schema(SCHEMA)
    graph.write_triples([make_triple("Ann", "works_for", "Acme")])
    graph.close()
    reader = EmbeddedStore(path, read_only=True)
    try:
        reader.ensure_schema(SCHEMA)
        with pytest.raises(StoreError):
            reader.query("CREATE (:Entity {key: 'k', name: 'n', type: 't'})", write=True)
        assert reader.query("MATCH (e:Entity) RETURN count(e)").rows == [[2]]
    finally:
        reader.close()


def test_missing_graph_read_only_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="kgbuild ingest"):
        EmbeddedStore(tmp_path / "absent.lbug", read_only=True)


def test_relationship_tables_read_back_are_quoted(store: EmbeddedStore) -> None:
    """A table made outside kgbuild, with a name that is no plain identifier, is still read and cleaned up."""
    odd = "odd `name` ]->()"
    triple = make_triple("Ann", "works_for", "Acme", doc="d1")
    store.replace_document(DocumentRecord("d1", "/d1", "h1"), [triple])
    quoted = "`" + odd.replace("`", "``") + "`"
    store.query(f"CREATE REL TABLE {quoted}(FROM Entity TO Entity, confidence DOUBLE, model STRING, "
                "support INT64, doc_ids STRING[])", write=True)
    store.query(f"MATCH (h:Entity {{name: 'Ann'}}), (t:Entity {{name: 'Acme'}}) CREATE (h)-[:{quoted} "
                "{confidence: 0.9, model: 'm', support: 1, doc_ids: ['d1']}]->(t)", write=True)
    [record] = record_rows((triple.head.key, odd, triple.tail.key), [triple.evidence])
    store.query("CREATE (:Evidence {id: $id, head_key: $head_key, rel_type: $rel_type, tail_key: $tail_key, "
                "doc_id: $doc_id, sentence_id: $sentence_id, confidence: $confidence, model: $model, "
                "reviewed_by: $reviewed_by, record: $record})", record, write=True)
    assert store.stats().relationships == {"WORKS_FOR": 1, odd: 1}
    assert {t.label for t in store.iter_triples()} == {"works_for", odd}  # unknown types come back raw
    store.remove_document("d1")
    assert store.stats().relationships == {} and stored(store) == set()


def test_a_transaction_the_database_aborted_reports_its_own_error(store: EmbeddedStore,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """When the database has already aborted a transaction (out of buffer pool, say), the failed ROLLBACK
    must not hide why, and nothing of the document is written."""
    real = store._run

    def failing(cypher: str, params: dict[str, object] | None = None) -> object:
        if "CREATE (:Document" in cypher or cypher == "ROLLBACK":
            raise StoreError("embedded store error: Buffer manager exception" if cypher != "ROLLBACK"
                             else "embedded store error: No active transaction for ROLLBACK.")
        return real(cypher, params)

    monkeypatch.setattr(store, "_run", failing)
    with pytest.raises(StoreError, match="Buffer manager"):
        store.replace_document(DocumentRecord("d1", "/d1", "h1"), [make_triple("Ann", "works_for", "Acme", doc="d1")])
    monkeypatch.setattr(store, "_run", real)
    real("ROLLBACK")  # the mock kept the real transaction open; the database would have aborted it
    assert store.documents() == {} and stored(store) == set()


def test_memory_settings_reach_the_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import ladybug

    from kgbuild.config import StoreConfig
    from kgbuild.graph import open_store

    seen: dict[str, object] = {}
    real = ladybug.Database

    def recording(*args: object, **kwargs: object) -> object:
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(ladybug, "Database", recording)
    open_store(StoreConfig(path=str(tmp_path / "g.lbug"), buffer_pool_mb=64)).close()
    assert seen["buffer_pool_size"] == 64 * 1024 * 1024 and seen["checkpoint_threshold"] == 1024 * 1024


# LadybugDB node writes as lookups and CREATEs (kgbuild.graph.ladybug_nodes): the graph ``MERGE`` gave, without
# the statement whose cost grew with the table; and a new connection once the graph outgrew the cached plans.

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


def test_a_graph_of_an_earlier_version_has_its_evidence_lists_moved_into_records(tmp_path: Path) -> None:
    """Before evidence records, each edge held its evidence as a JSON list: a read-only open says what to do,
    the first writable open moves the lists into records, and the graph then reads back as it was written."""
    import ladybug

    triples = [make_triple("Ann", "works_for", "Acme", doc="d1"), make_triple("Ann", "works_for", "Acme", doc="d2")]
    path = tmp_path / "old.lbug"
    db = ladybug.Database(str(path))
    conn = ladybug.Connection(db)
    conn.execute("CREATE NODE TABLE Entity(key STRING PRIMARY KEY, name STRING, type STRING, aliases STRING[])")
    conn.execute("CREATE REL TABLE WORKS_FOR(FROM Entity TO Entity, confidence DOUBLE, model STRING, support INT64, "
                 "reviewed INT64, doc_ids STRING[], sentence_ids STRING[], evidence STRING[])")
    for entity in (triples[0].head, triples[0].tail):
        conn.execute("CREATE (:Entity {key: $k, name: $n, type: $t, aliases: []})",
                     {"k": entity.key, "n": entity.name, "t": entity.type})
    conn.execute("MATCH (h:Entity {name: 'Ann'}) MATCH (t:Entity {name: 'Acme'}) CREATE (h)-[:WORKS_FOR "
                 "{confidence: 0.9, model: 'm', support: 2, reviewed: 0, doc_ids: ['d1', 'd2'], sentence_ids: [], "
                 "evidence: $evidence}]->(t)", {"evidence": [t.evidence.to_json() for t in triples] + ["{damaged"]})
    conn.close()
    db.close()

    with pytest.raises(StoreError, match="earlier kgbuild"):
        reader = EmbeddedStore(path, read_only=True)
        try:
            reader.ensure_schema(SCHEMA)
        finally:
            reader.close()
    writer = EmbeddedStore(path)
    writer.ensure_schema(SCHEMA)
    assert writer.stats().nodes["Evidence"] == 3
    # a damaged record is kept as written (the review page shows it as unreadable); then it is taken out by hand
    assert writer.query("MATCH (v:Evidence) WHERE v.doc_id = '' RETURN v.record").rows == [["{damaged"]]
    writer.query("MATCH (v:Evidence) WHERE v.doc_id = '' DELETE v", write=True)
    assert stored(writer) == {(t.head.key, t.label, t.tail.key, t.evidence.to_json()) for t in triples}
    writer.remove_document("d1")
    assert writer.query("MATCH ()-[r:WORKS_FOR]->() RETURN r.support, r.doc_ids").rows == [[1, ["d2"]]]
    writer.close()
