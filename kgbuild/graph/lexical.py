"""The lexical graph: the sentences behind the facts, so that Cypher alone can walk from a fact to its
sentences and files (neo4j-graphrag's ``Document``/``Chunk`` convention, at sentence grain):

* ``(:Document)-[:HAS_SENTENCE]->(:Sentence {id, doc_id, position, start_char, text})``
* ``(:Entity)-[:MENTIONED_IN {text, start_char, end_char, link}]->(:Sentence)``: the words as written
  (a pronoun stays "She", with ``link`` saying why it names the entity), offsets in the document
* every fact edge's ``sentence_ids`` lists the ids of the sentences in its evidence.

It is derived from evidence and nothing else: a store writes it with the edges it writes (a sentence once,
a mention once per entity, sentence and offset), drops a document's sentences with the document, and
rebuilds the mentions of the entities a merge or a review moves. Ladybug reserves ``index``, ``offset``
and ``end``, hence ``position``, ``start_char`` and ``end_char`` (spaCy's names) in both stores.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from kgbuild.types import Evidence

SENTENCE = "Sentence"
HAS_SENTENCE = "HAS_SENTENCE"
MENTIONED_IN = "MENTIONED_IN"
LEXICAL_RELATIONSHIPS = (HAS_SENTENCE, MENTIONED_IN)

MERGE_SENTENCES = (
    "UNWIND $rows AS row MERGE (s:Sentence {id: row.id}) ON CREATE SET s.doc_id = row.doc_id, "
    "s.position = row.position, s.start_char = row.start_char, s.text = row.text"
)
# One MATCH per node: LadybugDB plans ``MATCH (a {..}), (b {..})`` as a cross product (queries.merge_edges).
LINK_SENTENCES = (  # a bulk load without documents keeps its sentences unlinked
    "UNWIND $rows AS row MATCH (d:Document {id: row.doc_id}) MATCH (s:Sentence {id: row.id}) "
    "MERGE (d)-[:HAS_SENTENCE]->(s)"
)
MERGE_MENTIONS = (
    "UNWIND $rows AS row MATCH (e:Entity {key: row.key}) MATCH (s:Sentence {id: row.sentence}) "
    "MERGE (e)-[m:MENTIONED_IN {start_char: row.start_char}]->(s) "
    "ON CREATE SET m.end_char = row.end_char, m.text = row.text, m.link = row.link"
)
DELETE_DOCUMENT_SENTENCES = "MATCH (s:Sentence) WHERE s.doc_id = $id DETACH DELETE s"
DELETE_MENTIONS_OF = "MATCH (e:Entity)-[m:MENTIONED_IN]->(:Sentence) WHERE e.key IN $keys DELETE m"


class EdgeEnds(Protocol):
    """An edge's ends by entity key (``store.EdgeKey``)."""

    @property
    def head_key(self) -> str: ...

    @property
    def tail_key(self) -> str: ...


def sentence_id(evidence: Evidence) -> str:
    """The document and the character span: stable across runs (a document id is its content's hash), and
    distinct for a span of two sentences (``entities.sentence_window``)."""
    if evidence.sentence_start < 0:  # evidence stored before sentence offsets were
        return f"{evidence.doc_id}:#{evidence.sentence_index}"
    return f"{evidence.doc_id}:{evidence.sentence_start}-{evidence.sentence_start + len(evidence.sentence)}"


def lexical_rows(edges: Iterable[tuple[EdgeEnds, list[Evidence]]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Sentence rows and mention rows for the edges about to be written, each row once, sorted (Neo4j takes
    locks in statement order)."""
    sentences: dict[str, dict[str, Any]] = {}
    mentions: dict[tuple[str, str, int], dict[str, Any]] = {}
    for edge, evidence in edges:
        head_key, tail_key = edge.head_key, edge.tail_key
        for item in evidence:
            sid = sentence_id(item)
            sentences.setdefault(sid, {"id": sid, "doc_id": item.doc_id, "position": item.sentence_index,
                                       "start_char": item.sentence_start, "text": item.sentence})
            for key, text, start, end, link in ((head_key, item.head_text, item.head_start, item.head_end,
                                                 item.head_link),
                                                (tail_key, item.tail_text, item.tail_start, item.tail_end,
                                                 item.tail_link)):
                mentions.setdefault((key, sid, start), {"key": key, "sentence": sid, "start_char": start,
                                                        "end_char": end, "text": text, "link": link})
    return [sentences[k] for k in sorted(sentences)], [mentions[k] for k in sorted(mentions)]
