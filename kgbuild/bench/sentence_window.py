"""Pairs across adjacent sentences (``entities.sentence_window``): what they add to recall and cost in
precision and time, on the gold documents of ``examples/eval``.

    python -m kgbuild.bench.sentence_window                  # window 1, the default pipeline
    python -m kgbuild.bench.sentence_window --window 2 --floors 0.8,0.9

The pairs are labelled once with the window on. Each row then scores the same answers with the
cross-sentence pairs held to a confidence floor (their answer becomes ``no_relation`` below it); the row
``off`` drops them, which is exactly the pipeline without a window, as a pair's answer does not depend on
the other pairs labelled with it. This is the measurement behind the window's default (README, "Quality").
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from kgbuild.bench.common import report
from kgbuild.evaluation.triples import DocumentOutput, score_documents
from kgbuild.types import CandidatePair, Sentence

REPO = Path(__file__).resolve().parents[2]


def crosses(pair: CandidatePair, sentences: Sequence[Sentence]) -> bool:
    """Whether the pair's text runs past its first sentence, i.e. it was offered by the window."""
    first = next(s for s in sentences if s.index == pair.sentence_index)
    return len(pair.text) > len(first.text)


def held_to(output: DocumentOutput, floor: float | None, no_relation: str) -> DocumentOutput:
    """``output`` with its cross-sentence answers below ``floor`` turned into ``no_relation``; ``None`` drops
    the cross-sentence pairs altogether."""
    kept = [(pair, item) for pair, item in zip(output.candidates, output.labelled, strict=True)
            if floor is not None or not crosses(pair, output.sentences)]
    labelled = [replace(item, label=no_relation)
                if floor is not None and item.confidence < floor and crosses(pair, output.sentences) else item
                for pair, item in kept]
    return DocumentOutput(output.gold, [pair for pair, _ in kept], labelled, output.sentences)


def main(argv: Sequence[str] | None = None) -> None:
    from kgbuild.config import load_pipeline
    from kgbuild.datasets.docs_gold import load_gold
    from kgbuild.relations.extractor import RelationExtractor
    from kgbuild.workflows.evaluate_docs import label_gold_documents, read_gold_documents

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pipeline", type=Path, default=REPO / "pipelines" / "default.yaml")
    parser.add_argument("--data", type=Path, default=REPO / "examples" / "eval")
    parser.add_argument("--window", type=int, default=1)
    parser.add_argument("--floors", default="0.6,0.7,0.8,0.9", help="confidence floors for cross-sentence pairs")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    base = load_pipeline(args.pipeline)
    config = base.model_copy(update={"entities": base.entities.model_copy(update={"sentence_window": args.window})})
    schema = config.load_schema()
    documents = read_gold_documents(config, load_gold(args.data, schema))
    extractor = RelationExtractor.from_config(config.without_corrections())
    started = time.perf_counter()
    outputs, seconds = label_gold_documents(config, documents, extractor)
    wall = time.perf_counter() - started
    floors: list[float | None] = [None, 0.0, *(float(f) for f in args.floors.split(",") if f)]
    rows, results = [], []
    for floor in floors:
        metrics = score_documents([held_to(o, floor, schema.no_relation) for o in outputs], schema)
        pairs = sum(len(o.candidates) for o in (held_to(out, floor, schema.no_relation) for out in outputs))
        name = "off" if floor is None else f"window {args.window}, floor {floor:g}"
        rows.append((name, pairs / len(outputs), metrics["precision"], metrics["recall"], metrics["f1"]))
        results.append({"setting": name, "floor": floor, "pairs_per_document": pairs / len(outputs),
                        **{k: metrics[k] for k in ("precision", "recall", "f1", "missed_by_stage")}})
    report("sentence_window", ("setting", "pairs/doc", "P", "R", "F1"), rows,
           {"pipeline": str(args.pipeline), "window": args.window, "documents": len(outputs),
            "seconds_per_document_with_window": seconds / len(outputs), "wall_seconds": wall, "results": results},
           args.out)


if __name__ == "__main__":
    main()
