"""End-to-end ingest of a generated folder: documents/s, time per stage, peak memory at 1× and 4×.

    python -m kgbuild.bench.ingest [--docs 200] [--scales 1,4]
    python -m kgbuild.bench.ingest --docs 200 --executors local,ray:1,ray:2

``--executors`` instead ingests one folder with each executor (``ray:N[:C]`` = Ray with N labelling
actors reserving C CPUs each, default 1, on a local Ray started by the run) and reports documents/s
end to end and in steady state (from the first document written to the last, so without start-up
and model loading).

The folder is generated (seeded) from sentence templates about people, organisations, places and
dates, so spaCy finds entities and the default schema has pairs to label. Each run is a fresh
process writing a fresh embedded store, so its peak RSS (``ru_maxrss``) is its own; the spaCy-only
pass (read, sentences, entities, pairs; no labelling, no writing) runs the same way on the same folder.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kgbuild.bench.common import report

PEOPLE = ["Maria Delgado", "Josef Aschbacher", "Amara Okafor", "Lena Fischer", "Rahul Mehta", "Chen Wei",
          "Sofia Rossi", "Tomasz Nowak", "Aiko Tanaka", "Daniel Brooks", "Ingrid Larsen", "Omar Haddad"]
ORGS = ["the European Space Agency", "Siemens", "the Rijksmuseum", "Nordwind Energy", "Baltic Power",
        "the University of Lagos", "Toyota", "the World Health Organization", "Banco Santander", "Infosys"]
PLACES = ["Paris", "Berlin", "Lagos", "Mumbai", "Tokyo", "Madrid", "Oslo", "Warsaw", "Toronto", "Nairobi"]
DATES = ["March 3, 1968", "June 14, 1971", "1999", "September 2004", "January 21, 1985", "2012"]
TEMPLATES = [
    "{p} works for {o} in {l}.",
    "{p} was born on {d} in {l}.",
    "{o}, which is based in {l}, hired {p} in {d}.",
    "{o} was founded in {d} in {l}.",
    "{p}, a researcher at {o}, moved to {l} in {d}.",
    "Last year {p} left {o} and joined {o2}.",
    "The weather in {l} was mild, and the harbour was quiet.",
]


def generate(folder: Path, documents: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for number in range(documents):
        lines = []
        for _ in range(rng.randint(2, 4)):
            o, o2 = rng.sample(ORGS, 2)
            text = rng.choice(TEMPLATES).format(p=rng.choice(PEOPLE), o=o, o2=o2, l=rng.choice(PLACES),
                                                d=rng.choice(DATES))
            lines.append(text[0].upper() + text[1:])
        (folder / f"doc-{number:05d}.txt").write_text(" ".join(lines) + "\n", encoding="utf-8")
    return folder


def child(mode: str, folder: Path, store: Path, device: str) -> dict[str, Any]:
    """One run in this process: ``ingest`` (the real workflow), ``spacy`` (no labelling, no writing), or
    ``local`` / ``ray:N`` (ingest with that executor, timing each document written)."""
    from kgbuild.config import load_pipeline

    config = load_pipeline().with_overrides(store_path=str(store), device=device)
    started = time.perf_counter()
    result: dict[str, Any]
    if mode == "ingest" or mode == "local" or mode.startswith("ray:"):
        from kgbuild.workflows.ingest import IngestHooks, ingest_folder

        if mode.startswith("ray:"):  # ray:WORKERS[:CPUS_PER_WORKER]
            _, workers, *cpus = mode.split(":")
            config = config.with_overrides(executor="ray", workers=int(workers))
            if cpus:
                executor = config.executor.model_copy(update={"cpus_per_worker": float(cpus[0])})
                config = config.model_copy(update={"executor": executor})
        written: list[float] = []
        hooks = IngestHooks(on_file_done=lambda _: written.append(time.perf_counter()))
        summary = ingest_folder(config, folder, hooks)
        result = {"documents": summary.read, "pairs": summary.pairs, "triples": summary.triples,
                  "stages_s": summary.stage_seconds, "first_written_s": written[0] - started,
                  "steady_docs_per_s": (len(written) - 1) / (written[-1] - written[0])}
    else:
        from kgbuild.bench.labelling import docs_pairs

        result = {"pairs": len(docs_pairs(config, folder))}
    result["wall_s"] = time.perf_counter() - started
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def run_child(mode: str, folder: Path, store: Path, device: str) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-m", "kgbuild.bench.ingest", "--child", mode, str(folder), str(store),
                           device], check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=200)
    parser.add_argument("--scales", default="1,4")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--executors", default="", help="e.g. local,ray:1,ray:2: compare executors instead")
    parser.add_argument("--child", nargs=4, metavar=("MODE", "FOLDER", "STORE", "DEVICE"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        result = child(args.child[0], Path(args.child[1]), Path(args.child[2]), args.child[3])
        print(json.dumps(result))
        return result
    if args.executors:
        return compare_executors(args.executors.split(","), args.docs, args.device, args.out)
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="kgbuild-bench-") as tmp:
        for scale in (int(s) for s in args.scales.split(",")):
            folder = generate(Path(tmp) / f"docs-{scale}x", args.docs * scale)
            ingest = run_child("ingest", folder, Path(tmp) / f"graph-{scale}x.lbug", args.device)
            spacy_only = run_child("spacy", folder, Path(tmp) / "unused.lbug", args.device)
            stages = ingest["stages_s"]
            loading = stages.get("load models", 0.0)
            labelling = stages.get("label relations", 0.0)
            work = ingest["wall_s"] - loading
            runs.append({"scale": scale, "documents": ingest["documents"], "pairs": ingest["pairs"],
                         "triples": ingest["triples"], "wall_s": ingest["wall_s"], "stages_s": stages,
                         "docs_per_s": ingest["documents"] / work, "pairs_per_s": ingest["pairs"] / labelling,
                         "not_labelling_share": (work - labelling) / work,
                         "spacy_only_wall_s": spacy_only["wall_s"], "ratio_to_spacy_only": ingest["wall_s"]
                         / spacy_only["wall_s"], "peak_rss_mb": ingest["peak_rss_mb"],
                         "spacy_only_peak_rss_mb": spacy_only["peak_rss_mb"]})
    rows = [[r["scale"], r["documents"], r["pairs"], r["docs_per_s"], r["pairs_per_s"], r["not_labelling_share"],
             r["wall_s"], r["spacy_only_wall_s"], r["ratio_to_spacy_only"], r["peak_rss_mb"]] for r in runs]
    return report("ingest", ["scale", "docs", "pairs", "docs/s", "pairs/s", "not-labelling share", "wall s",
                             "spaCy-only wall s", "ratio to spaCy-only", "peak RSS MB"], rows,
                  {"runs": runs, "note": "docs/s and the not-labelling share exclude the one-off model load"},
                  args.out)


def compare_executors(executors: list[str], documents: int, device: str, out: Path | None) -> dict[str, Any]:
    runs = []
    with tempfile.TemporaryDirectory(prefix="kgbuild-bench-") as tmp:
        folder = generate(Path(tmp) / "docs", documents)
        for name in executors:
            run = run_child(name, folder, Path(tmp) / f"graph-{name.replace(':', '-')}.lbug", device)
            runs.append({"executor": name, **run, "docs_per_s": run["documents"] / run["wall_s"]})
    rows = [[r["executor"], r["documents"], r["triples"], r["wall_s"], r["first_written_s"], r["docs_per_s"],
             r["steady_docs_per_s"]] for r in runs]
    return report("ingest-executors", ["executor", "docs", "triples", "wall s", "first doc written s",
                                       "docs/s (end to end)", "docs/s (steady)"], rows, {"runs": runs}, out)


if __name__ == "__main__":
    main()
