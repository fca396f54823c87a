"""The lexical graph, on both stores: documents hold sentences, entities are mentioned in them, and a fact's
``sentence_ids`` name its sentences, so Cypher alone answers "which sentences support this fact" and
"facts from file X"; it follows documents out, merges and reviews."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kgbuild.graph.store import DocumentRecord, GraphStore
from kgbuild.types import Alias, Entity, Evidence, Triple

ESA_TEXT = "Ada Ruiz works for the European Space Agency. She joined ESA in Paris."
DOC_A = DocumentRecord("doc-a", "news/a.txt", "hash-a")
DOC_B = DocumentRecord("doc-b", "news/b.txt", "hash-b")


def fact(doc: str, text: str, sentence: str, head: tuple[str, str, str], label: str, tail: tuple[str, str, str],
         confidence: float = 0.9, refers_to: str = "", link: str = "") -> Triple:
    """A triple whose evidence points into ``text``: ``head`` and ``tail`` are (name, type, words as written)."""
    start = text.index(sentence)
    h_at, t_at = start + sentence.index(head[2]), start + sentence.index(tail[2])
    return Triple(Entity(head[0], head[1]), label, Entity(tail[0], tail[1]), Evidence(
        doc_id=doc, sentence_index=text[:start].count(". "), sentence=sentence, head_start=h_at,
        head_end=h_at + len(head[2]), tail_start=t_at, tail_end=t_at + len(tail[2]), confidence=confidence,
        model="m", head_text=head[2], tail_text=tail[2], head_refers_to=refers_to, head_link=link,
        sentence_start=start))


def esa_facts() -> list[Triple]:
    first, second = "Ada Ruiz works for the European Space Agency.", "She joined ESA in Paris."
    return [fact("doc-a", ESA_TEXT, first, ("Ada Ruiz", "PERSON", "Ada Ruiz"), "works_for",
                 ("European Space Agency", "ORG", "European Space Agency")),
            fact("doc-a", ESA_TEXT, second, ("Ada Ruiz", "PERSON", "She"), "works_for", ("ESA", "ORG", "ESA"),
                 refers_to="Ada Ruiz", link="pronoun"),
            fact("doc-a", ESA_TEXT, second, ("ESA", "ORG", "ESA"), "org_based_in", ("Paris", "GPE", "Paris"))]


def rows(store: GraphStore, cypher: str, **params: Any) -> list[list[Any]]:
    cypher = cypher.replace("label(r)", "type(r)") if store.name == "neo4j" else cypher
    return sorted(store.query(cypher, params).rows, key=repr)


def test_the_readme_shows_these_queries() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert all(query in readme for query in (SENTENCES_OF_FACT, FACTS_OF_FILE, PRONOUNS, EVIDENCE_OF_FACT))


# the README's example queries, as written there (Neo4j spells label(r) as type(r))
SENTENCES_OF_FACT = ("MATCH (a:Entity {name: $name})-[r:WORKS_FOR]->(b:Entity) "
                     "MATCH (d:Document)-[:HAS_SENTENCE]->(s:Sentence) WHERE s.id IN r.sentence_ids "
                     "RETURN b.name, s.text, d.path")
FACTS_OF_FILE = ("MATCH (d:Document)-[:HAS_SENTENCE]->(s:Sentence)<-[:MENTIONED_IN]-(a:Entity)-[r]->(b:Entity) "
                 "WHERE d.path ENDS WITH $file AND s.id IN r.sentence_ids "
                 "RETURN DISTINCT a.name, label(r) AS relation, b.name")
EVIDENCE_OF_FACT = ("MATCH (a:Entity {name: $name})-[r:WORKS_FOR]->(b:Entity) MATCH (v:Evidence) "
                    "WHERE v.head_key = a.key AND v.rel_type = label(r) AND v.tail_key = b.key "
                    "RETURN b.name, v.confidence, v.model, v.record")
PRONOUNS = ("MATCH (e:Entity)-[m:MENTIONED_IN]->(s:Sentence) WHERE m.link <> '' RETURN m.text, m.link, e.name, "
            "s.text")
MENTIONS = ("MATCH (e:Entity)-[m:MENTIONED_IN]->(s:Sentence) "
            "RETURN e.name, m.text, m.start_char, m.end_char, m.link, s.position")


def test_cypher_walks_from_a_fact_to_its_sentences_and_files(both_stores: GraphStore) -> None:
    store = both_stores
    store.replace_document(DOC_A, esa_facts())
    assert rows(store, SENTENCES_OF_FACT, name="Ada Ruiz") == [
        ["ESA", "She joined ESA in Paris.", "news/a.txt"],
        ["European Space Agency", "Ada Ruiz works for the European Space Agency.", "news/a.txt"]]
    assert rows(store, FACTS_OF_FILE, file="a.txt") == [
        ["Ada Ruiz", "WORKS_FOR", "ESA"], ["Ada Ruiz", "WORKS_FOR", "European Space Agency"],
        ["ESA", "ORG_BASED_IN", "Paris"]]
    assert rows(store, FACTS_OF_FILE, file="b.txt") == []
    assert rows(store, PRONOUNS) == [["She", "pronoun", "Ada Ruiz", "She joined ESA in Paris."]]
    evidence = rows(store, EVIDENCE_OF_FACT, name="Ada Ruiz")
    assert [(name, confidence, model, Evidence.from_json(record).head_text) for name, confidence, model, record
            in evidence] == [("ESA", 0.9, "m", "She"), ("European Space Agency", 0.9, "m", "Ada Ruiz")]
    mentions = rows(store, MENTIONS)
    assert ["Ada Ruiz", "She", 46, 49, "pronoun", 1] in mentions  # the words as written, and why
    for name, text, start, end, _, _ in mentions:
        assert ESA_TEXT[start:end] == text, name  # offsets are the document's
    assert store.stats().lexical == {"Sentence": 2, "HAS_SENTENCE": 2, "MENTIONED_IN": 5}


def test_the_lexical_graph_is_idempotent_and_leaves_with_its_document(both_stores: GraphStore) -> None:
    store = both_stores
    other = fact("doc-b", "Bo Li works for Acme.", "Bo Li works for Acme.", ("Bo Li", "PERSON", "Bo Li"),
                 "works_for", ("Acme", "ORG", "Acme"))
    store.replace_document(DOC_A, esa_facts())
    store.replace_document(DOC_B, [other])
    before = store.stats()
    store.replace_document(DOC_A, esa_facts(), previous=DOC_A)  # a rerun of the same file
    assert store.stats() == before
    store.remove_document("doc-a")
    assert store.stats().lexical == {"Sentence": 1, "HAS_SENTENCE": 1, "MENTIONED_IN": 2}
    assert rows(store, "MATCH (s:Sentence) RETURN s.id, s.doc_id") == [["doc-b:0-21", "doc-b"]]


def test_mentions_follow_a_merge_and_its_undo(both_stores: GraphStore) -> None:
    store = both_stores
    store.replace_document(DOC_A, esa_facts())
    store.merge_aliases([Alias("ESA", "ORG", "European Space Agency", "acronym", doc_id="doc-a")])
    mentioned = rows(store, "MATCH (e:Entity)-[m:MENTIONED_IN]->(:Sentence) WHERE e.type = 'ORG' "
                            "RETURN e.name, m.text")
    assert mentioned == [["European Space Agency", "ESA"],  # one mention, though the head of one fact and
                         ["European Space Agency", "European Space Agency"]]  # the tail of another
    store.undo_alias("esa|ORG")
    assert ["ESA", "ESA"] in rows(store, "MATCH (e:Entity)-[m:MENTIONED_IN]->(:Sentence) RETURN e.name, m.text")


def test_a_rejected_fact_takes_its_mentions_but_not_the_sentence(both_stores: GraphStore) -> None:
    store = both_stores
    store.replace_document(DOC_A, esa_facts())
    based = next(t for t in store.iter_triples() if t.label == "org_based_in")
    store.review(based, None, "me", "2026-12-06T00:00:00Z")
    assert rows(store, "MATCH (e:Entity {name: 'Paris'})-[m:MENTIONED_IN]->(:Sentence) RETURN m.text") == []
    assert store.stats().lexical["Sentence"] == 2
