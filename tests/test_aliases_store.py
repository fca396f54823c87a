"""Entity resolution in the store contract: both stores apply, list and undo alias decisions identically.

Triples arrive with their ends as written; the store resolves them through its alias records, keeps
the spellings in the evidence, and can split a merge back out exactly.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graph_cases import fail_on_edge_batch, make_triple, stored

from kgbuild.graph.store import DocumentRecord, GraphStore, StoreError
from kgbuild.types import Alias

ESA = "European Space Agency"


@pytest.fixture
def store(both_stores: GraphStore) -> GraphStore:
    return both_stores


def space_document(store: GraphStore, doc: str = "d-space") -> None:
    """'The European Space Agency' and 'ESA' in one document, linked by the document's own decisions."""
    triples = [make_triple("Josef Aschbacher", "works_for", "ESA", doc=doc),
               make_triple("Aschbacher", "works_for", "The European Space Agency", doc=doc, index=1)]
    aliases = [Alias("ESA", "ORG", ESA, "acronym", 1.0, doc), Alias("The European Space Agency", "ORG", ESA,
                                                                   "article", 1.0, doc),
               Alias("Aschbacher", "PERSON", "Josef Aschbacher", "short_form", 1.0, doc)]
    store.replace_document(DocumentRecord(doc, f"/{doc}.md", doc), triples, aliases=aliases)


def entity_rows(store: GraphStore) -> list[list[object]]:
    return store.query("MATCH (e:Entity) RETURN e.name, e.type, e.aliases ORDER BY e.name").rows


def test_mentions_resolve_to_one_node_with_aliases_and_combined_support(store: GraphStore) -> None:
    space_document(store)
    assert entity_rows(store) == [[ESA, "ORG", ["ESA", "The European Space Agency"]],
                                  ["Josef Aschbacher", "PERSON", ["Aschbacher"]]]
    rows = store.query("MATCH (h:Entity)-[r]->(t:Entity) RETURN h.name, t.name, r.support").rows
    assert rows == [["Josef Aschbacher", ESA, 2]]
    spellings = {(t.evidence.head_text, t.evidence.tail_text) for t in store.iter_triples()}
    assert spellings == {("Josef Aschbacher", "ESA"), ("Aschbacher", "The European Space Agency")}
    before = (stored(store), entity_rows(store), store.aliases())
    space_document(store)  # a rerun changes nothing
    assert (stored(store), entity_rows(store), store.aliases()) == before


def test_undo_splits_the_alias_out_exactly_and_for_good(store: GraphStore) -> None:
    space_document(store)
    undone = store.undo_alias("esa|ORG")
    assert [a.undone for a in undone] == [True]
    rows = sorted(store.query("MATCH (h:Entity)-[r]->(t:Entity) RETURN h.name, t.name, r.support").rows)
    assert rows == [["Josef Aschbacher", "ESA", 1], ["Josef Aschbacher", ESA, 1]]
    assert entity_rows(store)[:2] == [["ESA", "ORG", []], [ESA, "ORG", ["The European Space Agency"]]]
    space_document(store)  # the document proposes the acronym again: the undo holds
    assert sorted(store.query("MATCH (h:Entity)-[r]->(t:Entity) RETURN h.name, t.name").rows) == \
        [["Josef Aschbacher", "ESA"], ["Josef Aschbacher", ESA]]
    with pytest.raises(StoreError, match="no merge"):
        store.undo_alias("esa|ORG")


def test_cross_document_merge_moves_edges_and_removes_the_merged_node(store: GraphStore) -> None:
    store.replace_document(DocumentRecord("d1", "/d1", "h1"), [make_triple("Ann Lee", "works_for", "Acme Robotics",
                                                                           doc="d1")], aliases=[])
    store.replace_document(DocumentRecord("d2", "/d2", "h2"), [make_triple("Bob", "works_for", "Acme Robotics Inc",
                                                                           doc="d2")], aliases=[])
    made = store.merge_aliases([Alias("Acme Robotics", "ORG", "Acme Robotics Inc", "similarity", 0.95)])
    assert len(made) == 1 and store.merge_aliases(made) == []  # already there: nothing changes
    rows = sorted(store.query("MATCH (h:Entity)-[r]->(t:Entity) RETURN h.name, t.name, t.aliases").rows)
    merged = ["Acme Robotics Inc", ["Acme Robotics"]]
    assert rows == [["Ann Lee", *merged], ["Bob", *merged]]
    assert store.query("MATCH (e:Entity {name: 'Acme Robotics'}) RETURN count(e)").rows == [[0]]
    # a later document that writes the merged spelling lands on the canonical node
    store.replace_document(DocumentRecord("d3", "/d3", "h3"), [make_triple("Cy", "works_for", "Acme Robotics",
                                                                           doc="d3")], aliases=[])
    assert store.query("MATCH (e:Entity {type: 'ORG'}) RETURN e.name").rows == [["Acme Robotics Inc"]]
    store.undo_alias("acme robotics|ORG")
    assert sorted(store.query("MATCH (h:Entity)-[r]->(t:Entity) RETURN h.name, t.name").rows) == \
        [["Ann Lee", "Acme Robotics"], ["Bob", "Acme Robotics Inc"], ["Cy", "Acme Robotics"]]


def test_removing_a_document_drops_its_decisions_and_a_move_keeps_them(store: GraphStore) -> None:
    space_document(store)
    store.replace_document(DocumentRecord("d-space", "/moved.md", "d-space"), [])  # renamed file
    assert len(store.aliases()) == 3
    assert entity_rows(store)[0][2] == ["ESA", "The European Space Agency"]
    store.remove_document("d-space")
    assert store.aliases() == [] and store.query("MATCH ()-[r]->() RETURN count(r)").rows == [[0]]


def test_decisions_survive_reopening(store: GraphStore, request: pytest.FixtureRequest) -> None:
    space_document(store)
    table = store.aliases()
    schema = store._schema  # type: ignore[attr-defined]
    store.ensure_schema(schema)  # reloads the table from the database
    assert store.aliases() == table


def test_a_failed_write_leaves_decisions_and_graph_as_they_were(store: GraphStore,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    space_document(store)
    before = (stored(store), entity_rows(store), store.aliases())
    fail_on_edge_batch(store, monkeypatch, which=1)
    with pytest.raises(RuntimeError, match="simulated"):  # a changed version of the document crashes mid-write
        store.replace_document(DocumentRecord("d-new", "/d-space.md", "new"),
                               [make_triple("ESA", "works_for", "Josef Aschbacher", doc="d-new")],
                               previous=DocumentRecord("d-space", "/d-space.md", "d-space"),
                               aliases=[Alias("ESA", "ORG", "Eurospace", "acronym", 1.0, "d-new")])
    monkeypatch.undo()
    assert (stored(store), entity_rows(store), store.aliases()) == before
    with pytest.raises(RuntimeError, match="simulated"):
        fail_on_edge_batch(store, monkeypatch, which=1)
        store.merge_aliases([Alias("Josef Aschbacher", "PERSON", "J. Aschbacher", "similarity", 0.95)])
    monkeypatch.undo()
    assert (stored(store), entity_rows(store), store.aliases()) == before


def test_review_relabels_accepts_or_removes_one_evidence_item(store: GraphStore) -> None:
    space_document(store)
    first, second = sorted(store.iter_triples(), key=lambda t: t.evidence.sentence_index)
    store.review(first, "lives_in", "ana", "2026-11-26T10:00:00+00:00")  # relabel one of the edge's two sentences
    rows = sorted(store.query("MATCH (h:Entity)-[r]->(t:Entity) RETURN h.name, r.support, r.evidence").rows)
    assert [(name, support) for name, support, _ in rows] == [("Josef Aschbacher", 1), ("Josef Aschbacher", 1)]
    reviewed = [t for t in store.iter_triples() if t.evidence.reviewed_by]
    assert [(t.label, t.evidence.reviewed_by, t.evidence.head_text) for t in reviewed] == \
        [("lives_in", "ana", "Josef Aschbacher")]
    store.review(second, "works_for", "ana", "2026-11-26T10:01:00+00:00")  # accept
    assert {t.evidence.reviewed_by for t in store.iter_triples()} == {"ana"}
    store.review(reviewed[0], None, "ana", "2026-11-26T10:02:00+00:00")  # no relation after all
    assert [t.label for t in store.iter_triples()] == ["works_for"]
    with pytest.raises(StoreError, match="no longer in the graph"):
        store.review(reviewed[0], None, "ana", "2026-11-26T10:03:00+00:00")


def test_cli_lists_and_undoes_aliases(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from kgbuild.cli import app
    from kgbuild.graph.embedded import EmbeddedStore
    from kgbuild.schema import RelationSchema

    path = tmp_path / "g.lbug"
    graph = EmbeddedStore(path)
    graph.ensure_schema(RelationSchema.bundled("default"))
    space_document(graph)
    graph.close()
    runner = CliRunner()
    listed = runner.invoke(app, ["aliases", "--store-path", str(path)], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    assert "esa|ORG" in listed.output and "acronym" in listed.output and "3 alias decision(s)" in listed.output
    undone = runner.invoke(app, ["aliases", "--store-path", str(path), "--undo", "esa|ORG"], env={"COLUMNS": "250"})
    assert undone.exit_code == 0 and "split esa|ORG out of European Space Agency" in undone.output
    again = runner.invoke(app, ["aliases", "--store-path", str(path), "--undo", "esa|ORG"], env={"COLUMNS": "250"})
    assert again.exit_code == 1 and "no merge of 'esa|ORG' to undo" in again.output
