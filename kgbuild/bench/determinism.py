"""How far labels and confidences move with the thread count, the number format and the CPU kind.

    python -m kgbuild.bench.determinism                      # examples/docs + examples/eval/docs
    python -m kgbuild.bench.determinism --limit 100 --dtypes float32

Each run labels the same pairs (the default pipeline, no corrections) in a child process, with the
scorer's rounding switched off so that the raw differences show: 1 and 2 torch threads per number
format, and float32 once more as an AVX2-only CPU (``cpu_kind.IMITATE_AVX2``). Every run is compared with
the first: label flips, the largest confidence difference, and how many confidences still differ after
rounding to 2..6 digits. This is the measurement behind ``scorer.CONFIDENCE_DIGITS`` and behind float32
as ``dtype: auto`` on CPUs (docs/PERFORMANCE.md, "Determinism").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kgbuild.bench.common import report
from kgbuild.relations.cpu_kind import IMITATE_AVX2

REPO = Path(__file__).resolve().parents[2]
FOLDERS = (REPO / "examples" / "docs", REPO / "examples" / "eval" / "docs")
DIGITS = (2, 3, 4, 5, 6)


def child(threads: int, dtype: str, limit: int) -> None:
    """Label the pairs; print one JSON list of [label, raw confidence] per pair."""
    import torch

    from kgbuild.bench.labelling import docs_pairs
    from kgbuild.config import load_pipeline
    from kgbuild.relations import scorer
    from kgbuild.relations.extractor import RelationExtractor

    config = load_pipeline(REPO / "pipelines" / "default.yaml").without_corrections()
    config = config.model_copy(update={"generator": config.generator.model_copy(
        update={"threads": threads, "dtype": dtype})})
    pairs = [pair for folder in FOLDERS for pair in docs_pairs(config, folder)][:limit]
    scorer.CONFIDENCE_DIGITS = 15  # the raw values: what rounding has to absorb
    extractor = RelationExtractor.from_config(config)
    assert torch.get_num_threads() == threads
    print(json.dumps([[r.label, r.confidence] for r in extractor.label(pairs)]))


def labelled(threads: int, dtype: str, limit: int, env: dict[str, str]) -> list[tuple[str, float]]:
    run = subprocess.run([sys.executable, "-m", "kgbuild.bench.determinism", "--child", str(threads), dtype,
                          "--limit", str(limit)], env={**os.environ, **env}, capture_output=True, text=True,
                         check=False)
    if run.returncode != 0:
        raise RuntimeError(f"labelling run failed:\n{run.stderr[-2000:]}")
    return [(label, confidence) for label, confidence in json.loads(run.stdout.strip().splitlines()[-1])]


def compare(name: str, base: list[tuple[str, float]], other: list[tuple[str, float]]) -> dict[str, Any]:
    differences = [abs(a[1] - b[1]) for a, b in zip(base, other, strict=True)]
    return {"run": name, "pairs": len(base), "label_flips": sum(a[0] != b[0] for a, b in zip(base, other, strict=True)),
            "max_confidence_difference": max(differences, default=0.0),
            "differ_after_rounding": {digits: sum(round(a[1], digits) != round(b[1], digits)
                                                  for a, b in zip(base, other, strict=True)) for digits in DIGITS}}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=400, help="pairs, in folder order")
    parser.add_argument("--dtypes", default="float32,bfloat16")
    parser.add_argument("--child", nargs=2, metavar=("THREADS", "DTYPE"), help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.child:
        child(int(args.child[0]), args.child[1], args.limit)
        return {}
    runs: dict[str, list[tuple[str, float]]] = {}
    for dtype in args.dtypes.split(","):
        for threads in (2, 1):
            runs[f"{dtype}, {threads} thread(s)"] = labelled(threads, dtype, args.limit, {})
    runs["float32, 2 thread(s), as AVX2-only"] = labelled(2, "float32", args.limit, IMITATE_AVX2)
    rows = []
    for name, run in runs.items():
        base = f"{name.split(',')[0]}, 2 thread(s)"  # each format against itself at 2 threads
        if name != base:
            rows.append({"base": base, **compare(name, runs[base], run)})
        elif base != "float32, 2 thread(s)" and "float32, 2 thread(s)" in runs:
            rows.append({"base": "float32, 2 thread(s)", **compare(name, runs["float32, 2 thread(s)"], run)})
    return report("determinism", ["run", "against", "pairs", "label flips", "max |Δ confidence|",
                                  *[f"differ at {d} digits" for d in DIGITS]],
                  [[r["run"], r["base"], r["pairs"], r["label_flips"], f"{r['max_confidence_difference']:.2e}",
                    *r["differ_after_rounding"].values()] for r in rows],
                  {"comparisons": rows}, args.out)

if __name__ == "__main__":
    main()
