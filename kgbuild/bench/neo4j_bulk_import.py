"""A first load through the import path, timed: the synthetic triples of ``bench.neo4j_load`` written to the
embedded store (what ``kgbuild ingest`` does), exported with ``kgbuild export --format neo4j-import``, and
loaded by the real ``neo4j-admin database import full`` into a fresh database; beside it, the online writer
on a slice of the same triples in the same run.

    python -m kgbuild.bench.neo4j_load --import --triples 1000000 --entities 300000 --online-triples 100000

Rates count fact relationships (one per distinct head, type and tail), the figure the online writer's
benchmark reports; the lexical graph (sentences, mentions) is loaded too and counted apart.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.neo4j_import import export_neo4j_import
from kgbuild.graph.neo4j_store import Neo4jStore
from kgbuild.graph.store import StoreError, group_triples
from kgbuild.schema import RelationSchema
from kgbuild.types import Triple

WRITE_BATCH = 50_000  # triples per embedded write transaction


def import_path(args: argparse.Namespace, schema: RelationSchema, triples: list[Triple]) -> dict[str, Any]:
    from kgbuild.testing.neo4j_server import admin_tool, neo4j_server

    _, edges = group_triples(triples, schema)
    work = Path(tempfile.mkdtemp(prefix="kgbuild-import-bench-"))
    try:
        embedded = EmbeddedStore(work / "graph.lbug", buffer_pool_mb=args.buffer_pool_mb)
        try:
            embedded.ensure_schema(schema)
            batch_seconds = []  # one per batch: whether a write slows as the store grows
            for start in range(0, len(triples), WRITE_BATCH):
                began = time.perf_counter()
                embedded.write_triples(triples[start:start + WRITE_BATCH])
                batch_seconds.append(round(time.perf_counter() - began, 2))
            write_seconds = sum(batch_seconds)
            began = time.perf_counter()
            written = export_neo4j_import(embedded, schema, work / "import")
            export_seconds = time.perf_counter() - began
        finally:
            embedded.close()
        files_mb = sum(p.stat().st_size for p in (work / "import").iterdir()) / 1e6
        home = work / "home"
        began = time.perf_counter()
        result = admin_tool(written.command[1:], home, work / "import", heap_mb=args.heap_mb, timeout=3600)
        import_seconds = time.perf_counter() - began
        if result.returncode != 0:
            raise StoreError(f"neo4j-admin import failed: {(result.stderr or result.stdout).strip()[-500:]}")
        with neo4j_server(pagecache_mb=args.pagecache_mb, heap_mb=args.heap_mb, home=home) as running:
            imported = Neo4jStore(running.config())
            try:
                stats = imported.stats()
            finally:
                imported.close()
        online = online_rate(args, schema, triples[:args.online_triples])
    finally:
        shutil.rmtree(work, ignore_errors=True)
    facts = len(edges)
    if sum(stats.relationships.values()) != facts:
        raise StoreError(f"the imported database holds {sum(stats.relationships.values())} facts, not {facts}")
    return {
        "triples": len(triples), "fact_relationships": facts, "nodes": written.nodes,
        "all_relationships": written.relationships, "imported_stats": {**stats.nodes, **stats.lexical},
        "files_mb": round(files_mb, 1),
        "embedded_write_seconds": round(write_seconds, 2), "embedded_batch_seconds": batch_seconds,
        "export_seconds": round(export_seconds, 2), "export_rels_per_s": round(facts / export_seconds, 1),
        "import_seconds": round(import_seconds, 2), "import_rels_per_s": round(facts / import_seconds, 1),
        "export_plus_import_rels_per_s": round(facts / (export_seconds + import_seconds), 1),
        "online": online,
    }


def wipe(store: Neo4jStore) -> None:
    """Delete everything in bounded transactions (a single huge DETACH DELETE needs a big heap)."""
    while store.query("MATCH (n) WITH n LIMIT 10000 DETACH DELETE n RETURN count(*)", write=True).rows[0][0]:
        pass


def online_rate(args: argparse.Namespace, schema: RelationSchema, triples: list[Triple]) -> dict[str, Any]:
    """The online writer on ``triples`` into a fresh test server, after a warm-up load of them."""
    from kgbuild.testing.neo4j_server import neo4j_server

    _, edges = group_triples(triples, schema)
    with neo4j_server(pagecache_mb=args.pagecache_mb, heap_mb=args.heap_mb) as running:
        store = Neo4jStore(running.config(batch_size=args.batch_size))
        try:
            store.ensure_schema(schema)
            store.write_triples(triples)  # warm-up: the JVM compiles its hot paths, as a long-running server has
            wipe(store)
            began = time.perf_counter()
            store.write_triples(triples)
            seconds = time.perf_counter() - began
        finally:
            store.close()
    return {"triples": len(triples), "fact_relationships": len(edges), "seconds": round(seconds, 2),
            "rels_per_s": round(len(edges) / seconds, 1)}
