"""FAISS top-k latency against bank size: exact (flat inner product) and approximate (HNSW).

    python -m kgbuild.bench.retrieval [--sizes 1000,10000,100000] [--k 3] [--queries 200]

Vectors are synthetic, unit-length, 384-dimensional (all-MiniLM-L6-v2's size), clustered by topic. Latency is per single
query, as ingest asks (one sentence at a time is the worst case), median of the repeats; recall@k of
HNSW is measured against the exact search on the same queries. ``retrieval.APPROXIMATE_ABOVE`` is set
from this table: the bank size where exact search stops being sub-millisecond.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kgbuild.bench.common import report
from kgbuild.relations.retrieval import build_index

DIMENSION = 384


def unit_vectors(count: int, seed: int, topics: int = 2000) -> np.ndarray:
    """Unit vectors clustered around ``topics`` random directions (cosine to its centre about 0.7), the way
    sentence embeddings cluster; uniformly random vectors would be HNSW's unrealistic worst case."""
    centres = _normalised(np.random.default_rng(0).standard_normal((topics, DIMENSION)))
    rng = np.random.default_rng(seed)
    noise = _normalised(rng.standard_normal((count, DIMENSION)))
    return _normalised(centres[rng.integers(0, topics, count)] + noise).astype(np.float32)


def _normalised(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def per_query_ms(index: Any, queries: np.ndarray, k: int, repeats: int) -> tuple[float, np.ndarray]:
    medians, ids = [], np.zeros((0, k))
    for _ in range(repeats):
        times = []
        found = []
        for query in queries:
            started = time.perf_counter()
            _, hit = index.search(query[None], k)
            times.append(time.perf_counter() - started)
            found.append(hit[0])
        medians.append(statistics.median(times) * 1000)
        ids = np.array(found)
    return statistics.median(medians), ids


def measure(size: int, k: int, queries: int, repeats: int) -> dict[str, Any]:
    bank, probes = unit_vectors(size, 1), unit_vectors(queries, 2)
    exact = build_index(bank, approximate=False)
    started = time.perf_counter()
    approximate = build_index(bank, approximate=True)
    hnsw_build = time.perf_counter() - started
    exact_ms, truth = per_query_ms(exact, probes, k, repeats)
    approx_ms, found = per_query_ms(approximate, probes, k, repeats)
    recall = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(truth, found, strict=True)]))
    return {"size": size, "k": k, "flat_ms": exact_ms, "hnsw_ms": approx_ms, "hnsw_recall_at_k": recall,
            "hnsw_build_s": hnsw_build}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,20000,100000")
    parser.add_argument("--k", type=int, default=3)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    results = [measure(int(size), args.k, args.queries, args.repeats) for size in args.sizes.split(",")]
    rows = [[r["size"], r["flat_ms"], r["hnsw_ms"], r["hnsw_recall_at_k"], r["hnsw_build_s"]] for r in results]
    return report("retrieval", ["bank size", "flat ms/query", "HNSW ms/query", "HNSW recall@k", "HNSW build s"],
                  rows, {"sizes": results, "repeats": args.repeats}, args.out)


if __name__ == "__main__":
    main()
