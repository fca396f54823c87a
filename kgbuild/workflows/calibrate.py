"""Choose ``generator.threshold`` on held-out dev examples, then report the fixed dev split with it.

A generator trained on balanced data over-predicts relations on naturally imbalanced text; a
confidence threshold (below it the answer is ``no_relation``) trades recall for precision. The
threshold is chosen on the dev examples *outside* the pipeline's fixed dev sample
(``training.dev_limit``), so the dev figures it is reported with were not used to choose it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kgbuild.config import PipelineConfig
from kgbuild.datasets.registry import check_dataset_schema
from kgbuild.datasets.splits import load_training_data, seeded_sample, training_section
from kgbuild.errors import ConfigError
from kgbuild.evaluation.metrics import standard_metrics
from kgbuild.relations.extractor import RelationExtractor
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair, LabelledPair


@dataclass
class Calibration:
    threshold: float
    calibration_examples: int
    calibration_f1: float  # the standard metric on the calibration examples at ``threshold``
    before: dict[str, Any]  # fixed dev split, the pipeline's threshold
    after: dict[str, Any]  # fixed dev split, the chosen threshold


def thresholded(labelled: Sequence[LabelledPair], threshold: float, no_relation: str) -> list[str]:
    """What the extractor answers with ``generator.threshold = threshold``."""
    return [no_relation if item.label != no_relation and item.confidence < threshold else item.label
            for item in labelled]


def best_threshold(dataset: str, gold: Sequence[str], labelled: Sequence[LabelledPair],
                   schema: RelationSchema) -> tuple[float, float]:
    """The threshold with the highest standard metric (the lowest among equals) and that metric."""
    candidates = sorted({0.0, *(item.confidence for item in labelled if item.label != schema.no_relation)})
    best = (0.0, -1.0)
    for threshold in candidates:
        value = standard_metrics(dataset, gold, thresholded(labelled, threshold, schema.no_relation),
                                 schema)["headline_value"]
        if value > best[1]:
            best = (threshold, value)
    return best


def calibrate_threshold(config: PipelineConfig, limit: int | None = None) -> Calibration:
    training = training_section(config)
    schema = config.load_schema()
    check_dataset_schema(training.dataset, schema.name)
    data = load_training_data(config)
    held_out: list[CandidatePair] = data.calibration
    if limit is not None:
        held_out = seeded_sample(held_out, limit, training.split_seed)
    if not held_out:
        raise ConfigError("no dev examples outside the fixed dev sample to calibrate on; set training.dev_limit "
                          "below the size of the dev split")
    unthresholded = config.model_copy(update={"generator": config.generator.model_copy(update={"threshold": 0.0})})
    extractor = RelationExtractor.from_config(unthresholded.without_corrections())
    gold = [str(e.label) for e in held_out]
    threshold, value = best_threshold(training.dataset, gold, extractor.label(held_out), schema)
    dev_labelled = extractor.label(data.dev)
    dev_gold = [str(e.label) for e in data.dev]

    def scored(at: float) -> dict[str, Any]:
        metrics = standard_metrics(training.dataset, dev_gold, thresholded(dev_labelled, at, schema.no_relation),
                                   schema)
        return {"threshold": at, **metrics}

    return Calibration(threshold, len(held_out), value, scored(config.generator.threshold), scored(threshold))
