"""The embedded LadybugDB store: what only it does (the shared contract is in test_store_contract.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from graph_cases import SCHEMA, make_triple, stored

from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.store import DocumentRecord, StoreError


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
                "support INT64, doc_ids STRING[], evidence STRING[])", write=True)
    store.query(f"MATCH (h:Entity {{name: 'Ann'}}), (t:Entity {{name: 'Acme'}}) CREATE (h)-[:{quoted} "
                "{confidence: 0.9, model: 'm', support: 1, doc_ids: ['d1'], evidence: $evidence}]->(t)",
                {"evidence": [triple.evidence.to_json()]}, write=True)
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
