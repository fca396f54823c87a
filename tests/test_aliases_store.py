"""Entity resolution in the store contract: both stores apply, list and undo alias decisions identically.

Triples arrive with their ends as written; the store resolves them through its alias records, keeps
the spellings in the evidence, and can split a merge back out exactly.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from graph_cases import fail_on_edge_batch, make_triple, stored

from kgbuild.graph.store import DocumentRecord, GraphStore, StoreError
from kgbuild.types import Alias, Triple

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
    rows = sorted(store.query("MATCH (h:Entity)-[r]->(t:Entity) RETURN h.name, r.support, r.reviewed").rows)
    assert rows == [["Josef Aschbacher", 1, 0], ["Josef Aschbacher", 1, 1]]
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


def pronoun_document(store: GraphStore, doc: str = "d-ruiz") -> None:
    """"Ana Ruiz runs Norvik. She lives in Lyon. ... Bea Lund chairs it. She lives in Oslo." with "Ruiz" a
    short form: the pronoun's evidence names what it stands for, as written ("Ruiz")."""
    def said(head: str, tail: str, refers_to: str, index: int) -> Triple:
        triple = make_triple(refers_to, "lives_in", tail, doc=doc, index=index, tail_type="GPE")
        evidence = replace(triple.evidence, head_text=head, head_refers_to=refers_to, head_link="pronoun")
        return replace(triple, evidence=evidence)

    triples = [make_triple("Ana Ruiz", "works_for", "Norvik", doc=doc), said("She", "Lyon", "Ruiz", 1),
               said("She", "Oslo", "Bea Lund", 3)]
    aliases = [Alias("Ruiz", "PERSON", "Ana Ruiz", "short_form", 1.0, doc),
               Alias("She", "PERSON", "Ruiz", "pronoun", 1.0, doc), Alias("She", "PERSON", "Bea Lund", "pronoun", 1.0,
                                                                          doc)]
    store.replace_document(DocumentRecord(doc, f"/{doc}.md", doc), triples, aliases=aliases)


def edges(store: GraphStore) -> list[list[object]]:
    return sorted(store.query("MATCH (h:Entity)-[r]->(t:Entity) RETURN h.name, t.name").rows)


def test_a_pronoun_link_lands_on_its_entity_is_listed_and_undone_alone(store: GraphStore) -> None:
    pronoun_document(store)
    assert edges(store) == [["Ana Ruiz", "Lyon"], ["Ana Ruiz", "Norvik"], ["Bea Lund", "Oslo"]]
    assert entity_rows(store)[:2] == [["Ana Ruiz", "PERSON", ["Ruiz"]], ["Bea Lund", "PERSON", []]]  # no "She"
    said = {(t.evidence.head_text, t.evidence.head_refers_to, t.evidence.head_link) for t in store.iter_triples()
            if t.label == "lives_in"}
    assert said == {("She", "Ruiz", "pronoun"), ("She", "Bea Lund", "pronoun")}
    assert sorted(a.canonical for a in store.aliases() if a.reason == "pronoun") == ["Bea Lund", "Ruiz"]
    with pytest.raises(StoreError, match="into 'oslo|GPE'"):
        store.undo_alias("she|PERSON", "oslo|GPE")
    undone = store.undo_alias("she|PERSON", "ana ruiz|PERSON")  # one of the two links, by the entity's key
    assert [(a.canonical, a.undone) for a in undone] == [("Ruiz", True)]
    assert edges(store) == [["Ana Ruiz", "Norvik"], ["Bea Lund", "Oslo"]]
    pronoun_document(store)  # the document links "She" to Ruiz again: the undo holds
    assert edges(store) == [["Ana Ruiz", "Norvik"], ["Bea Lund", "Oslo"]]
    store.undo_alias("she|PERSON")  # every remaining link of the spelling
    assert edges(store) == [["Ana Ruiz", "Norvik"]]
    pronoun_document(store, doc="d-other")  # another document's "She" → "Ruiz" is its own link: not undone
    assert ["Ana Ruiz", "Lyon"] in edges(store)


def test_a_single_pronoun_link_never_becomes_a_name_of_its_entity(store: GraphStore) -> None:
    triple = make_triple("Bea Lund", "lives_in", "Oslo", doc="d1", tail_type="GPE")
    triple = replace(triple, evidence=replace(triple.evidence, head_text="She", head_refers_to="Bea Lund",
                                              head_link="pronoun"))
    store.replace_document(DocumentRecord("d1", "/d1.md", "d1"), [triple],
                           aliases=[Alias("She", "PERSON", "Bea Lund", "pronoun", 1.0, "d1")])
    assert entity_rows(store) == [["Bea Lund", "PERSON", []], ["Oslo", "GPE", []]]
