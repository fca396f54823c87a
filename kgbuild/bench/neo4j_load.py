"""Neo4j write throughput: N synthetic triples, first load and full rerun.

    python -m kgbuild.bench.neo4j_load --triples 100000 --entities 30000 --types 40 --start-test-server
    NEO4J_PASSWORD=... python -m kgbuild.bench.neo4j_load --uri bolt://localhost:7687

Reports relationships/s for the first load and for the rerun (which must create nothing), and
the write rate over the first and last 10% of the load, to show whether it stays flat as the
graph grows. The target database is wiped first: never point it at data you want to keep.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import SecretStr

from kgbuild.config import Neo4jConfig
from kgbuild.graph.neo4j_store import Neo4jStore
from kgbuild.relations.schema import RelationSchema
from kgbuild.types import Entity, Evidence, Triple


def synthetic(triples: int, entities: int, types: int, seed: int = 7) -> tuple[RelationSchema, list[Triple]]:
    rng = random.Random(seed)
    labels = [f"rel_{i:02d}" for i in range(types)]
    schema = RelationSchema.model_validate({"name": "bench", "labels": {
        label: {"description": f"synthetic relation {label}"} for label in labels}})
    names = [Entity(f"Entity {i}", "ORG" if i % 2 else "PERSON") for i in range(entities)]
    out = []
    for i in range(triples):
        head, tail = rng.sample(names, 2)
        evidence = Evidence(doc_id=f"doc-{i // 50}", sentence_index=i % 50, sentence=f"Sentence {i}.",
                            head_start=0, head_end=5, tail_start=6, tail_end=10,
                            confidence=round(rng.random(), 4), model="bench")
        out.append(Triple(head, rng.choice(labels), tail, evidence))
    return schema, out


def counts(store: Neo4jStore) -> tuple[int, int]:
    nodes = store.query("MATCH (n) RETURN count(n)").rows[0][0]
    rels = store.query("MATCH ()-[r]->() RETURN count(r)").rows[0][0]
    return int(nodes), int(rels)


def timed_load(store: Neo4jStore, triples: list[Triple], slices: int = 10) -> list[tuple[int, float]]:
    """Write in ``slices`` consecutive parts; (relationships, seconds) for each."""
    size = max(1, len(triples) // slices)
    parts = []
    for start in range(0, len(triples), size):
        chunk = triples[start:start + size]
        began = time.perf_counter()
        store.write_triples(chunk)
        parts.append((len(chunk), time.perf_counter() - began))
    return parts


@contextmanager
def server(args: argparse.Namespace) -> Iterator[Neo4jConfig]:
    if args.start_test_server:
        sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
        from neo4j_server import neo4j_server

        with neo4j_server() as running:
            yield Neo4jConfig(uri=running.uri, user=running.user, password=SecretStr(running.password),
                              batch_size=args.batch_size)
        return
    yield Neo4jConfig(uri=args.uri, user=args.user, password=SecretStr(os.environ.get("NEO4J_PASSWORD", "")),
                      batch_size=args.batch_size).resolved()


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--entities", type=int, default=30_000)
    parser.add_argument("--types", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--uri", default="bolt://localhost:7687")
    parser.add_argument("--user", default="neo4j")
    parser.add_argument("--start-test-server", action="store_true", help="start the test Neo4j (Java + Maven)")
    args = parser.parse_args(argv)
    schema, triples = synthetic(args.triples, args.entities, args.types)
    with server(args) as config:
        store = Neo4jStore(config)
        try:
            store.ensure_schema(schema)
            store.query("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS", write=True)
            first = timed_load(store, triples)
            after_first = counts(store)
            rerun = timed_load(store, triples)
            after_rerun = counts(store)
        finally:
            store.close()
    rate = [n / s for n, s in first]
    result = {
        "triples": args.triples,
        "nodes": after_first[0],
        "relationships": after_first[1],
        "first_load_rels_per_s": sum(n for n, _ in first) / sum(s for _, s in first),
        "rerun_rels_per_s": sum(n for n, _ in rerun) / sum(s for _, s in rerun),
        "first_10pct_rels_per_s": rate[0],
        "last_10pct_rels_per_s": rate[-1],
        "rerun_created_nodes": after_rerun[0] - after_first[0],
        "rerun_created_relationships": after_rerun[1] - after_first[1],
        "neo4j": store.server_version,
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
