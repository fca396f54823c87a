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
