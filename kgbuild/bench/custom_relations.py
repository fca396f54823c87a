"""Teaching the default adapter relations it never saw, from 20, 50 or 200 examples on the CPU.

    KGBUILD_DATA=... python -m kgbuild.bench.custom_relations [--sizes 20,50,200] [--eval-per-label 60]

Three Re-DocRED relations that no shipped adapter was trained on stand for a user's own labels:
``country of citizenship`` (P27) → ``citizen_of`` (PERSON → GPE), ``sibling`` (P3373) → ``sibling_of`` and
``spouse`` (P26) → ``spouse_of`` (PERSON → PERSON), added to the default schema. For each size, a seeded
examples file is drawn from Re-DocRED's dev split (half positives, evenly per label, half ``no_relation``
pairs of the same entity types) and ``kgbuild train --examples`` runs on it from the default pipeline
(continuing the shipped adapter; the threshold is chosen on the file's own dev examples). Scored, with the
artefact's threshold: micro-F1 over the three new labels on Re-DocRED's test split (the split the default
pipeline's own dev data already draws its dates from; at most ``--eval-per-label`` positives per label and
as many negatives as positives), and micro-F1 over the old labels on a seeded sample of the default
pipeline's fixed dev split, against the shipped adapter on the same pairs.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from kgbuild.bench.common import report
from kgbuild.config import PipelineConfig, load_pipeline
from kgbuild.datasets.default_training import REDOCRED_TYPES
from kgbuild.datasets.redocred import load_redocred
from kgbuild.datasets.sampling import seeded_sample
from kgbuild.datasets.splits import load_training_data
from kgbuild.evaluation.metrics import standard_metrics
from kgbuild.relations.extractor import RelationExtractor
from kgbuild.schema import RelationSchema
from kgbuild.training_config import data_root
from kgbuild.types import NO_RELATION, CandidatePair
from kgbuild.workflows.train import run_training

NEW = {"P27": "citizen_of", "P3373": "sibling_of", "P26": "spouse_of"}
TYPES = {"citizen_of": ("PERSON", "GPE", "the head person is a citizen of the tail country"),
         "sibling_of": ("PERSON", "PERSON", "the head person is a brother or sister of the tail person"),
         "spouse_of": ("PERSON", "PERSON", "the head person is married to the tail person")}
SEED = 13


def pairs(split: str) -> list[CandidatePair]:
    allowed = {(h, t) for h, t, _ in TYPES.values()}
    return load_redocred(data_root() / "re-docred", split, relation_map=NEW, type_map=REDOCRED_TYPES.get,
                         keep=lambda head, tail: (head, tail) in allowed)


def balanced(examples: list[CandidatePair], positives_per_label: int, negatives: int) -> list[CandidatePair]:
    rng = random.Random(SEED)
    chosen = []
    for label in TYPES:
        pool = [e for e in examples if e.label == label]
        chosen += rng.sample(pool, min(len(pool), positives_per_label))
    pool = [e for e in examples if e.label == NO_RELATION]
    return chosen + rng.sample(pool, min(len(pool), negatives))


def write_examples(path: Path, examples: list[CandidatePair]) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for e in examples:
            handle.write(json.dumps({"text": e.text, "head": e.head.text, "head_type": e.head.type,
                                     "head_start": e.head.start, "tail": e.tail.text, "tail_type": e.tail.type,
                                     "tail_start": e.tail.start, "label": e.label}) + "\n")


def user_pipeline(folder: Path) -> PipelineConfig:
    """The default pipeline with the three labels added to its schema, as a user would write it."""
    spec = RelationSchema.bundled("default").model_dump(by_alias=True)
    spec["name"] = "withnew"
    for label, (head, tail, description) in TYPES.items():
        spec["labels"][label] = {"description": description, "head_types": [head], "tail_types": [tail]}
    (folder / "withnew.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    default = load_pipeline()
    training = default.training.model_copy(update={"select_epoch": False}) if default.training else None
    return default.model_copy(update={"name": "withnew", "schema_": str(folder / "withnew.yaml"),
                                      "training": training})


def micro_f1(config: PipelineConfig, examples: list[CandidatePair], labels: set[str]) -> float:
    extractor = RelationExtractor.from_config(config.without_corrections())
    answers = [item.label for item in extractor.label(examples)]
    gold = [str(e.label) if e.label in labels else NO_RELATION for e in examples]
    answers = [a if a in labels else NO_RELATION for a in answers]
    return float(standard_metrics("jsonl", gold, answers, extractor.schema)["headline_value"])


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="20,50,200")
    parser.add_argument("--eval-per-label", type=int, default=60)
    parser.add_argument("--old-pairs", type=int, default=200)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    test = pairs("test")
    positives = sum(min(args.eval_per_label, sum(e.label == label for e in test)) for label in TYPES)
    new_eval = balanced(test, args.eval_per_label, positives)
    old_eval = seeded_sample(load_training_data(load_pipeline()).dev, args.old_pairs, SEED)
    old_labels = set(RelationSchema.bundled("default").labels)
    rows, results = [], {}
    with tempfile.TemporaryDirectory() as folder:
        base = user_pipeline(Path(folder))
        rows.append(["shipped adapter", 0, 0.0, micro_f1(base, new_eval, set(TYPES)),
                     micro_f1(base, old_eval, old_labels), base.generator.threshold])
        train_pool = pairs("dev")
        for size in (int(n) for n in args.sizes.split(",")):
            examples = balanced(train_pool, -(-size // (2 * len(TYPES))), size // 2)[:size]
            file = Path(folder) / f"examples-{size}.jsonl"
            write_examples(file, examples)
            config = base.model_copy(update={"training": base.training.model_copy(  # type: ignore[union-attr]
                update={"output": str(Path(folder) / f"run-{size}")})})
            started = time.perf_counter()
            result = run_training(config, examples_file=file)
            minutes = (time.perf_counter() - started) / 60
            artefact = load_pipeline(result.output / "pipeline.yaml")
            new_f1, old_f1 = micro_f1(artefact, new_eval, set(TYPES)), micro_f1(artefact, old_eval, old_labels)
            rows.append([f"{size} examples", size, minutes, new_f1, old_f1, artefact.generator.threshold])
            results[size] = {"minutes": minutes, "new_f1": new_f1, "old_f1": old_f1, "steps": result.steps,
                             "threshold": artefact.generator.threshold}
    return report("custom_relations", ["adapter", "examples", "train + select minutes", "new labels micro-F1",
                                       "old labels micro-F1", "threshold"], rows,
                  {"results": results, "new_eval_pairs": len(new_eval), "old_eval_pairs": len(old_eval)}, args.out)


if __name__ == "__main__":
    main()
