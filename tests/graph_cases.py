"""Triple builders and hypothesis strategies shared by the store tests (embedded and Neo4j)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import strategies as st

from kgbuild.graph.store import GraphStore, edge_properties, group_triples
from kgbuild.schema import RelationSchema
from kgbuild.types import Entity, Evidence, Triple

SCHEMA = RelationSchema.bundled("default")
LABELS = list(SCHEMA.labels)

HOSTILE_NAMES = [
    "'}) DETACH DELETE n //",
    '"}) MATCH (n) DETACH DELETE n RETURN 1 //',
    "`Evil` Corp {x: 1}",
    "Zoë Ångström 東京 🚀",
    "O'Brien & \"Sons\"",
    "x" * 10_000,
]


WRITE_QUERIES = [
    "CREATE (:Entity {key: 'x', name: 'x', type: 'X'})",
    "MATCH (n) DETACH DELETE n",
    "MATCH (e:Entity) SET e.name = 'pwned'",
    "MERGE (:Document {id: 'x'})",
    "match (n) // comment\n detach delete n",
]


def make_triple(head: str, label: str, tail: str, doc: str = "doc-1", sentence: str = "A sentence.",
                index: int = 0, confidence: float = 0.9, head_type: str = "PERSON", tail_type: str = "ORG",
                model: str = "test-model") -> Triple:
    return Triple(
        head=Entity(head, head_type),
        label=label,
        tail=Entity(tail, tail_type),
        evidence=Evidence(doc_id=doc, sentence_index=index, sentence=sentence, head_start=0, head_end=len(head),
                          tail_start=len(head) + 1, tail_end=len(head) + 1 + len(tail), confidence=confidence,
                          model=model),
    )


def canonical(triples: list[Triple]) -> set[tuple[str, str, str, str]]:
    """What a store must preserve: entity keys, label and the full evidence record."""
    return {(t.head.key, t.label, t.tail.key, t.evidence.to_json()) for t in triples}


def stored(store: GraphStore) -> set[tuple[str, str, str, str]]:
    return canonical(list(store.iter_triples()))


def wipe(store: GraphStore) -> None:
    store.query("MATCH (n) DETACH DELETE n", write=True)


def edges(store: GraphStore) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Every stored edge's properties (all of them) by (head key, type, tail key)."""
    if store.name == "neo4j":
        rows = store.query("MATCH (h:Entity)-[r]->(t:Entity) RETURN h.key, type(r), t.key, properties(r)").rows
        return {(h, rel, t): props for h, rel, t, props in rows}
    rows = store.query("MATCH (h:Entity)-[r]->(t:Entity) RETURN h.key, label(r), t.key, r").rows
    return {(h, rel, t): {k: v for k, v in r.items() if k != "_label"} for h, rel, t, r in rows}


def expected_edges(
    triples: list[Triple], schema: RelationSchema = SCHEMA
) -> dict[tuple[str, str, str], dict[str, Any]]:
    """What every store must hold: ``edge_properties`` over each edge's evidence set."""
    _, grouped = group_triples(triples, schema)
    return {(k.head_key, k.rel_type, k.tail_key): edge_properties(ev) for k, ev in grouped.items()}


def fail_on_edge_batch(store: GraphStore, monkeypatch: pytest.MonkeyPatch, which: int) -> None:
    """Make the ``which``-th edge batch crash after it has written, inside its transaction. A batch is one
    ``_merge_edges`` call: one relationship type in the embedded store, a sorted batch of all types in Neo4j."""
    calls = {"n": 0}
    real = store._merge_edges  # type: ignore[attr-defined]

    def flaky(*args: Any) -> None:
        calls["n"] += 1
        real(*args)
        if calls["n"] == which:
            raise RuntimeError("simulated crash mid-batch")

    monkeypatch.setattr(store, "_merge_edges", flaky)


names = st.one_of(
    st.sampled_from(["Acme", "acme", "ACME ", "Apple Inc.", "apple  inc.", *HOSTILE_NAMES[:5]]),
    st.text(min_size=1, max_size=40).filter(lambda s: s.strip() != ""),
    st.just("y" * 3000),
)
sentences = st.one_of(st.text(max_size=80), st.sampled_from(HOSTILE_NAMES))


@st.composite
def triple_batches(draw: st.DrawFn, labels: list[str]) -> list[Triple]:
    """Random batches with repeated facts (same edge, several sentences) and exact duplicates."""
    base = draw(st.lists(
        st.builds(make_triple, head=names, label=st.sampled_from(labels), tail=names,
                  doc=st.sampled_from(["doc-a", "doc-b"]), sentence=sentences,
                  index=st.integers(0, 3), confidence=st.floats(0.0, 1.0).map(lambda x: round(x, 6))),
        min_size=1, max_size=12,
    ))
    duplicates = draw(st.lists(st.sampled_from(base), max_size=4))
    return base + duplicates


# Read-only guard cases: lexed queries that must be refused, and read queries that must pass.
GUARD_ATTACKS = [
    # no word boundary between a number and a keyword, yet the database reads two tokens
    "UNWIND [1] AS x WITH x WHERE x = 1LOAD FROM '/etc/passwd' (file_format='csv', delim=':', header=false) RETURN *",
    "MATCH (n) WITH n LIMIT 1 1LOAD CSV FROM 'file:///etc/passwd' AS l RETURN l",
    # table functions and procedures
    "CALL READ_CSV_SERIAL('/etc/hostname') RETURN *",
    "CALL READ_NPY('/etc/hostname') RETURN *",
    "CALL READ_PARQUET('/etc/hostname') RETURN *",
    "CALL dbms.components()",
    "CALL apoc.load.json('file:///etc/passwd')",
    "MATCH (n) CALL { WITH n SET n.x = 1 } RETURN n",
    "MATCH (n) CALL db.createLabel('X') RETURN n",
    "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line",
    "COPY Entity FROM '/tmp/x.csv'",
    # writes hidden by case, comments, odd white space or a second statement
    "match (n) // comment\n detach delete n",
    "MATCH (n)/**/DELETE n",
    "MATCH (n) DELETE/* x */n",
    "MATCH (n)\u00a0SET n.name = 'x'",
    "MATCH (n) RETURN n; MATCH (m) DELETE m",
    "MATCH (n) RETURN n; LOAD FROM '/etc/passwd' RETURN *",
    "MATCH (n) FOREACH (x IN [1] | CREATE (:X))",
    "MATCH (n) MERGE (m:X) RETURN m",
    "MATCH (n) INSERT (:X)",
    # anything that does not start as a read query
    "CREATE (n)",
    "EXPLAIN CREATE (n)",
    "SHOW DATABASES",
    "USE system MATCH (n) RETURN n",
    "",
    "   // only a comment",
]

GUARD_READS = [
    "MATCH (n:Entity) RETURN n.name AS `set`",
    "MATCH (n:Entity) RETURN n.name AS `delete`",
    "MATCH (n) WHERE n.name = 'CREATE (x); LOAD FROM /etc/passwd // DELETE' RETURN n.name",
    "MATCH (n) WHERE n.name = '/* CALL db.x() */' RETURN n",
    "RETURN {`set`: 1, `load`: 2, `call`: 3} AS m",
    "MATCH (n) RETURN n.delete, n.create, n.load",
    "MATCH (n:`Create`)-[r:`LOAD`]->(m) RETURN count(*)",
    "OPTIONAL MATCH (n) WITH n UNWIND [1, 2] AS x RETURN x ORDER BY x DESC SKIP 0 LIMIT 5;",
    "MATCH (a)-[r]->(b) RETURN a.name, label(r) AS relation UNION MATCH (a) RETURN a.name, 'x' AS relation",
    "MATCH (e:Entity) WHERE e.type = $t RETURN count(e) AS n",
    'MATCH (n) WHERE n.name = "O\'Brien; CALL" RETURN n',
    "MATCH (n)\n\tWHERE n.name = 'Zoë 東京' RETURN n.name AS `名前`",
    "MATCH (a:Entity)-[r]->(b:Entity) RETURN a.name, type(r), b.name, r.confidence ORDER BY r.confidence DESC LIMIT 10",
    "MATCH (a:Entity) WHERE EXISTS { MATCH (a)-[]->() } RETURN toLower(a.name), size(a.aliases)",
    "MATCH (h:Entity)-[r]->(t:Entity) WHERE list_contains(r.doc_ids, $doc) RETURN h.name, t.name",
]
