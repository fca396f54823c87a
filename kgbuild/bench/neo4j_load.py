"""Neo4j write throughput: N synthetic triples, first load and full rerun.

    python -m kgbuild.bench.neo4j_load --triples 100000 --entities 30000 --types 40 --start-test-server
    python -m kgbuild.bench.neo4j_load --start-test-server --compare merge,in-transactions
    python -m kgbuild.bench.neo4j_load --import --triples 1000000 --entities 300000   # the import path
    NEO4J_PASSWORD=... python -m kgbuild.bench.neo4j_load --uri bolt://localhost:7687 --user neo4j --wipe

First prints the ``PROFILE`` of every statement one batch runs (in a transaction that is rolled
back, so nothing is written): rows, db hits and time per statement. Then loads through
``Neo4jStore.write_triples`` in ten consecutive slices and reports relationships per second for
the first load (after loading and wiping the whole set once, so the JVM has compiled its hot
paths, as a long-running server has; ``--no-warmup`` times a cold JVM), per slice (is the rate
flat as the graph grows?), and for a full rerun, which
must create 0 nodes, 0 relationships and set 0 properties (the driver's result counters).
``--compare`` then times alternatives on the emptied database: ``merge`` (the previous
per-type MERGE statements), ``merge-dynamic`` (one MERGE for all types, the type a parameter),
``in-transactions`` (one ``CALL {...} IN TRANSACTIONS`` query that blindly CREATEs; no duplicate
check, a lower bound of the server's work), and ``one-writer`` / ``two-writers`` (kgbuild's edge
batches after the same one-pass entity load, from one thread or two at once). An external
database must be empty, or ``--wipe`` given.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from pydantic import SecretStr

from kgbuild.bench.neo4j_bulk_import import wipe
from kgbuild.config import Neo4jConfig
from kgbuild.graph.neo4j_store import Neo4jStore, WriteCounters
from kgbuild.graph.neo4j_writes import sorted_edges
from kgbuild.graph.queries import MERGE_ENTITIES, merge_edges
from kgbuild.graph.store import StoreError, edge_properties, group_triples
from kgbuild.schema import RelationSchema
from kgbuild.types import Entity, Evidence, Triple

SLICES = 10


def synthetic(triples: int, entities: int, types: int, seed: int = 7) -> tuple[RelationSchema, list[Triple]]:
    """Random triples over a fixed entity pool; 50 sentences per synthetic document."""
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


def timed_load(store: Neo4jStore, triples: list[Triple]) -> list[tuple[float, WriteCounters]]:
    """Write in ``SLICES`` consecutive parts; (seconds, committed counters) for each."""
    size = max(1, -(-len(triples) // SLICES))
    parts = []
    for start in range(0, len(triples), size):
        before = store.counters.copy()
        began = time.perf_counter()
        store.write_triples(triples[start:start + size])
        seconds = time.perf_counter() - began
        parts.append((seconds, store.counters.since(before)))
    return parts


def load_entities(store: Neo4jStore, triples: list[Triple]) -> None:
    rows = sorted(store.prepare(triples).entity_rows, key=lambda row: row["key"])
    for start in range(0, len(rows), store.batch_size):
        store.query(MERGE_ENTITIES, {"rows": rows[start:start + store.batch_size]}, write=True)


def timed_merge(store: Neo4jStore, triples: list[Triple]) -> float:
    """The previous write path: one MERGE statement per relationship type and batch (entities first)."""
    began = time.perf_counter()
    load_entities(store, triples)
    for rel_type, items in store.prepare(triples).edges_by_type.items():
        rows = [{"h": k.head_key, "t": k.tail_key, "props": edge_properties(e)} for k, e in items]
        for start in range(0, len(rows), store.batch_size):
            store.query(merge_edges(rel_type) + "ON CREATE SET r += row.props",
                        {"rows": rows[start:start + store.batch_size]}, write=True)
    return time.perf_counter() - began


def timed_in_transactions(store: Neo4jStore, triples: list[Triple]) -> float:
    """All edges in one auto-commit query that the server splits into transactions itself (blind CREATE)."""
    began = time.perf_counter()
    load_entities(store, triples)
    rows = [{"h": k.head_key, "t": k.tail_key, "type": k.rel_type, **edge_properties(e)}
            for k, e in sorted_edges(store.prepare(triples))]
    with store.driver.session(database=store.config.database) as session:
        session.run(
            "UNWIND $rows AS row CALL (row) { MATCH (h:Entity {key: row.h}), (t:Entity {key: row.t}) "
            "CREATE (h)-[r:$(row.type) {confidence: row.confidence, model: row.model, support: row.support, "
            "doc_ids: row.doc_ids}]->(t) } IN TRANSACTIONS OF $size ROWS",
            rows=rows, size=store.batch_size).consume()
    return time.perf_counter() - began


def timed_merge_dynamic(store: Neo4jStore, triples: list[Triple]) -> float:
    """One MERGE for all types, the type a parameter (``$(row.type)``, Neo4j 5.26+)."""
    began = time.perf_counter()
    load_entities(store, triples)
    rows = [{"h": k.head_key, "t": k.tail_key, "type": k.rel_type, "props": edge_properties(e)}
            for k, e in sorted_edges(store.prepare(triples))]
    for start in range(0, len(rows), store.batch_size):
        store.query("UNWIND $rows AS row MATCH (h:Entity {key: row.h}), (t:Entity {key: row.t}) "
                    "MERGE (h)-[r:$(row.type)]->(t) ON CREATE SET r += row.props",
                    {"rows": rows[start:start + store.batch_size]}, write=True)
    return time.perf_counter() - began


def timed_writers(writers: int) -> Callable[[Neo4jStore, list[Triple]], float]:
    """kgbuild's edge batches (entities loaded first, in one pass, as the other comparisons do), ``writers``
    transactions at a time from as many threads."""
    def run(store: Neo4jStore, triples: list[Triple]) -> float:
        began = time.perf_counter()
        load_entities(store, triples)
        items = sorted_edges(store.prepare(triples))
        chunks = [items[start:start + store.batch_size] for start in range(0, len(items), store.batch_size)]
        with ThreadPoolExecutor(writers) as pool:
            list(pool.map(lambda chunk: store.write_edge_batch(chunk), chunks))
        return time.perf_counter() - began
    return run


COMPARISONS = {"merge": timed_merge, "merge-dynamic": timed_merge_dynamic, "in-transactions": timed_in_transactions,
               "one-writer": timed_writers(1), "two-writers": timed_writers(2)}


def count_nodes(store: Neo4jStore) -> int:
    return int(store.query("MATCH (n) RETURN count(n)").rows[0][0])


@contextmanager
def server(args: argparse.Namespace) -> Iterator[Neo4jConfig]:
    if args.start_test_server:
        from kgbuild.testing.neo4j_server import neo4j_server

        with neo4j_server(pagecache_mb=args.pagecache_mb, heap_mb=args.heap_mb) as running:
            yield running.config(batch_size=args.batch_size)
        return
    yield Neo4jConfig(uri=args.uri, user=args.user, password=SecretStr(os.environ.get("NEO4J_PASSWORD", "")),
                      database=args.database, batch_size=args.batch_size)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--triples", type=int, default=100_000)
    parser.add_argument("--entities", type=int, default=30_000)
    parser.add_argument("--types", type=int, default=40)
    parser.add_argument("--batch-size", type=int, default=Neo4jConfig().batch_size, help="rows per transaction")
    parser.add_argument("--heap-mb", type=int, default=1024, help="test server JVM heap")
    parser.add_argument("--pagecache-mb", type=int, default=128, help="test server page cache")
    parser.add_argument("--no-warmup", dest="warmup", action="store_false",
                        help="time the first load on a cold JVM (by default one slice is loaded and wiped first)")
    parser.add_argument("--compare", default="", help=f"comma-separated: {', '.join(COMPARISONS)}")
    parser.add_argument("--uri", default=os.environ.get("NEO4J_URI", "bolt://localhost:7687"))
    parser.add_argument("--user", default=os.environ.get("NEO4J_USER", "neo4j"))
    parser.add_argument("--database", default=os.environ.get("NEO4J_DATABASE", "neo4j"))
    parser.add_argument("--wipe", action="store_true", help="delete everything in the target database first")
    parser.add_argument("--start-test-server", action="store_true",
                        help="start a throw-away Neo4j 5.26 (needs Java + Maven, see kgbuild.testing.neo4j_server)")
    parser.add_argument("--import", dest="bulk_import", action="store_true",
                        help="time the import path instead: embedded store, export, neo4j-admin import "
                             "(kgbuild.bench.neo4j_bulk_import), and the online writer on --online-triples")
    parser.add_argument("--online-triples", type=int, default=100_000, help="with --import: the online slice")
    parser.add_argument("--buffer-pool-mb", type=int, default=4096, help="with --import: the embedded store's")
    args = parser.parse_args(argv)
    if args.bulk_import:
        from kgbuild.bench.common import machine
        from kgbuild.bench.neo4j_bulk_import import import_path

        schema, triples = synthetic(args.triples, args.entities, args.types)
        timed = {"machine": machine(), **import_path(args, schema, triples)}
        print(json.dumps(timed, indent=2))
        return timed
    comparisons = [name for name in args.compare.split(",") if name]
    unknown = set(comparisons) - set(COMPARISONS)
    if unknown:
        parser.error(f"unknown --compare {sorted(unknown)}; choose from {sorted(COMPARISONS)}")
    schema, triples = synthetic(args.triples, args.entities, args.types)
    warmup_seconds = client_cpu = 0.0
    entities, edges = group_triples(triples, schema)
    with server(args) as config:
        store = Neo4jStore(config)
        try:
            store.ensure_schema(schema)
            if count_nodes(store) and not (args.wipe or args.start_test_server):
                raise StoreError(f"{config.uri} database {config.database!r} is not empty; pass --wipe to clear it")
            wipe(store)
            slice_size = -(-len(triples) // SLICES)
            profiles = store.profile_write(triples[:min(slice_size, args.batch_size)])
            if args.warmup:  # a long-running server has compiled its hot paths; a fresh JVM has not
                warmup_seconds = sum(s for s, _ in timed_load(store, triples))
                wipe(store)
                _, triples = synthetic(args.triples, args.entities, args.types)  # same data, nothing cached
            client_cpu = time.process_time()  # this process only: preparing rows, packing them, the driver
            first = timed_load(store, triples)
            client_cpu = time.process_time() - client_cpu
            rerun = timed_load(store, triples)
            nodes = store.stats().nodes.get("Entity", 0)  # the lexical graph's sentences are counted apart
            relationships = sum(store.stats().relationships.values())
            version = store.server_version
            compared = {}
            for name in comparisons:
                wipe(store)
                seconds = COMPARISONS[name](store, triples)
                compared[name] = {"seconds": round(seconds, 2),
                                  "rels_per_s": round(sum(store.stats().relationships.values()) / seconds, 1)}
        finally:
            store.close()
    created = [c.relationships_created for _, c in first]
    first_seconds, rerun_seconds = sum(s for s, _ in first), sum(s for s, _ in rerun)
    result: dict[str, Any] = {
        "neo4j": version,
        "triples": len(triples),
        "distinct_entities": len(entities),
        "distinct_edges": len(edges),
        "batch_size": args.batch_size,
        "warmup": args.warmup,
        "nodes": nodes,
        "relationships": relationships,
        "warmup_seconds": round(warmup_seconds, 2),
        "first_load_seconds": round(first_seconds, 2),
        "first_load_rels_per_s": round(sum(created) / first_seconds, 1),
        "first_load_client_cpu_s": round(client_cpu, 2),
        "client_bound_rels_per_s": round(sum(created) / client_cpu, 1),
        "first_10pct_rels_per_s": round(created[0] / first[0][0], 1),
        "last_10pct_rels_per_s": round(created[-1] / first[-1][0], 1),
        "slice_rels_per_s": [round(c / s) for c, (s, _) in zip(created, first, strict=True)],
        "rerun_seconds": round(rerun_seconds, 2),
        "rerun_rels_per_s": round(len(edges) / rerun_seconds, 1),
        "rerun_created_nodes": sum(c.nodes_created for _, c in rerun),
        "rerun_created_relationships": sum(c.relationships_created for _, c in rerun),
        "rerun_properties_set": sum(c.properties_set for _, c in rerun),
        "profile_first_batch": [p.to_json() for p in profiles],
        "compared": compared,
    }
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    try:
        main()
    except StoreError as exc:
        sys.exit(f"error: {exc}")
