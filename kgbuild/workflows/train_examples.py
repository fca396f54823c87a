"""``kgbuild train --examples FILE``: your own relation labels, taught to the pipeline's adapter.

The pipeline names the schema with the new labels; the examples file (:mod:`kgbuild.datasets.jsonl_examples`)
replaces the training data. Training continues from the pipeline's adapter (``--from-scratch`` starts a new
one), keeps the adapter's retrieval bank beside the new examples, and chooses the new adapter's
confidence threshold on the dev examples carved from the file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from kgbuild.config import PipelineConfig
from kgbuild.datasets.registry import JSONL
from kgbuild.errors import InputError
from kgbuild.relations.extractor import RelationExtractor, unseen_labels
from kgbuild.schema import RelationSchema
from kgbuild.training_config import TrainingConfig
from kgbuild.types import CandidatePair
from kgbuild.workflows.calibrate import best_threshold

log = logging.getLogger(__name__)

EXAMPLE_DEFAULTS: dict[str, Any] = {"epochs": 3.0, "batch_size": 8, "learning_rate": 5e-4}  # minutes on 2 cores


def examples_config(config: PipelineConfig, examples: Path) -> PipelineConfig:
    """The pipeline with its training data replaced by ``examples``. A pipeline kgbuild ships writes its
    adapter to ``runs/<name>-examples`` in the working directory, never over the shipped one."""
    if not examples.is_file():
        raise InputError(f"examples file not found: {examples}")
    own: dict[str, Any] = {"dataset": JSONL, "data": str(examples.resolve()), "train_split": "train", "dev_split": None,
           "dev_limit": None, "limit": None, "negative_ratio": None}
    base = config.training
    if base is None or config.is_shipped():
        own["output"] = str(Path.cwd() / "runs" / f"{config.name}-examples")
    training = base.model_copy(update=own) if base is not None else TrainingConfig(**own, **EXAMPLE_DEFAULTS)
    return config.model_copy(update={"training": training})


def announce_new_labels(adapter: str | None, schema: RelationSchema, examples: list[CandidatePair]) -> None:
    """Say which labels the run teaches for the first time, and how many examples each has."""
    new = unseen_labels(Path(adapter), schema) if adapter else list(schema.labels)
    counts = {label: sum(1 for e in examples if e.label == label) for label in new}
    if new:
        log.warning("new labels, learned from your examples only: %s",
                    ", ".join(f"{label} ({count} examples)" for label, count in counts.items()))
    missing = [label for label, count in counts.items() if count == 0]
    if missing:
        log.warning("no example teaches %s: the model will not learn to answer it", ", ".join(missing))


def chosen_threshold(artefact: PipelineConfig, dev: list[CandidatePair]) -> float:
    """The threshold with the best micro-F1 on the dev examples (0.0 without dev examples)."""
    if not dev:
        return 0.0
    at_zero = artefact.generator.model_copy(update={"threshold": 0.0})
    extractor = RelationExtractor.from_config(artefact.model_copy(update={"generator": at_zero}).without_corrections())
    threshold, _ = best_threshold(JSONL, [str(e.label) for e in dev], extractor.label(dev), extractor.schema)
    return threshold
