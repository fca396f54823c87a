"""What one document's write costs as the embedded store grows. LadybugDB's node ``MERGE`` costs in proportion to
its table, so before node writes became lookups and CREATEs a folder's ingest slowed with its own graph
(docs/PERFORMANCE.md, "Embedded writes and the size of the store").

    python -m kgbuild.bench.store_growth                                  # up to 200,000 facts
    python -m kgbuild.bench.store_growth --facts 500000 --step 100000

Synthetic facts (:func:`kgbuild.bench.neo4j_load.synthetic`) are bulk-written in steps. After each step, new
documents of ten facts each (about existing entities and two new ones) are written with ``replace_document``, as
``kgbuild ingest`` writes a new file, then written again under a new hash, as it writes a changed file (the earlier
version's evidence, sentences and node are removed first). Reported: the median milliseconds per document of
each, by the number of facts in the store.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from kgbuild.bench.common import report
from kgbuild.bench.neo4j_load import synthetic
from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.store import DocumentRecord
from kgbuild.types import Entity, Evidence, Triple

FACTS_PER_DOCUMENT = 10


def document_triples(doc_id: str, pool: list[Entity], labels: list[str], rng: random.Random) -> list[Triple]:
    """Ten facts in ten sentences: eight between existing entities, two with an entity the store has not seen."""
    fresh = [Entity(f"New {doc_id} {i}", "ORG") for i in range(2)]
    triples = []
    for index in range(FACTS_PER_DOCUMENT):
        head = rng.choice(pool)
        tail = fresh[index % 2] if index < 2 else rng.choice(pool)
        evidence = Evidence(doc_id=doc_id, sentence_index=index, sentence=f"{head.name} and {tail.name}.",
                            head_start=0, head_end=len(head.name), tail_start=len(head.name) + 5,
                            tail_end=len(head.name) + 5 + len(tail.name), confidence=round(rng.random(), 4),
                            model="bench", sentence_start=index * 100)
        triples.append(Triple(head, rng.choice(labels), tail, evidence))
    return triples


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--facts", type=int, default=200_000, help="synthetic facts in the store at the end")
    parser.add_argument("--step", type=int, default=50_000, help="facts bulk-written between measurements")
    parser.add_argument("--entities", type=int, default=None, help="entity pool (default: facts / 3)")
    parser.add_argument("--documents", type=int, default=20, help="documents written at each size")
    parser.add_argument("--buffer-pool-mb", type=int, default=4096)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    schema, facts = synthetic(args.facts, args.entities or max(args.facts // 3, 100), 8)
    pool = sorted({t.head.key: t.head for t in facts[: args.step]}.values(), key=lambda e: e.key)
    labels = sorted(schema.labels)
    rng = random.Random(11)
    rows, sizes = [], []
    with tempfile.TemporaryDirectory(prefix="kgbuild-growth-") as folder:
        store = EmbeddedStore(Path(folder) / "graph.lbug", buffer_pool_mb=args.buffer_pool_mb)
        try:
            store.ensure_schema(schema)
            for start in range(0, args.facts, args.step):
                store.write_triples(facts[start:start + args.step])
                stored = min(start + args.step, args.facts)
                new, changed = [], []
                for number in range(args.documents):
                    doc_id = f"bench-{stored}-{number}"
                    triples = document_triples(doc_id, pool, labels, rng)
                    first = DocumentRecord(doc_id, f"docs/{doc_id}.txt", "hash-1")
                    began = time.perf_counter()
                    store.replace_document(first, triples)
                    new.append(time.perf_counter() - began)
                    second = DocumentRecord(f"{doc_id}-2", first.path, "hash-2")  # ids are content hashes
                    again = [replace(t, evidence=replace(t.evidence, doc_id=second.id)) for t in triples]
                    began = time.perf_counter()
                    store.replace_document(second, again, previous=first)
                    changed.append(time.perf_counter() - began)
                new_ms, changed_ms = statistics.median(new) * 1000, statistics.median(changed) * 1000
                rows.append((stored, round(new_ms, 1), round(changed_ms, 1)))
                sizes.append({"facts": stored, "new_document_ms": new_ms, "changed_document_ms": changed_ms})
        finally:
            store.close()
    report("store_growth", ("facts in the store", "new document, ms (median)", "changed document, ms (median)"),
           rows, {"step": args.step, "documents": args.documents, "facts_per_document": FACTS_PER_DOCUMENT,
                  "sizes": sizes}, args.out)


if __name__ == "__main__":
    main()
