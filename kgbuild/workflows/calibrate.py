"""Fit ``generator.temperature`` and choose ``generator.threshold`` on held-out dev examples, then report
the fixed dev split with them.

The temperature comes first: it makes confidences honest (``evaluation/temperature.py``), and the
threshold is a confidence, so it is chosen on the tempered ones. A generator trained on balanced data
over-predicts relations on naturally imbalanced text; a confidence threshold (below it the answer is
``no_relation``) trades recall for precision. Both are chosen on the dev examples *outside* the
pipeline's fixed dev sample (``training.dev_limit``), so the dev figures they are reported with were not
used to choose them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from kgbuild.config import PipelineConfig
from kgbuild.datasets.registry import check_dataset_schema
from kgbuild.datasets.sampling import seeded_sample
from kgbuild.datasets.splits import load_training_data, training_section
from kgbuild.errors import ConfigError
from kgbuild.evaluation.metrics import expected_calibration_error, standard_metrics
from kgbuild.evaluation.temperature import fit_temperature, tempered_scores
from kgbuild.relations.extractor import RelationExtractor
from kgbuild.relations.scorer import CONFIDENCE_DIGITS
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair, LabelledPair


@dataclass
class Calibration:
    threshold: float
    temperature: float
    calibration_examples: int
    calibration_f1: float  # the standard metric on the calibration examples at ``threshold``
    before: dict[str, Any]  # fixed dev split, the pipeline's temperature and threshold
    tempered: dict[str, Any]  # fixed dev split, the fitted temperature and the pipeline's threshold
    after: dict[str, Any]  # fixed dev split, the fitted temperature and chosen threshold


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


def at_temperature(labelled: Sequence[LabelledPair], temperature: float,
                   schema: RelationSchema) -> list[LabelledPair]:
    """The answers as the scorer gives them at ``temperature``, from answers scored at temperature 1."""
    labels = schema.all_labels
    rows = tempered_scores([item.scores for item in labelled], labels, temperature, CONFIDENCE_DIGITS)
    answers = []
    for item, row in zip(labelled, rows, strict=True):
        best = max(labels, key=row.__getitem__)  # a tie: the label listed first, as the scorer decides
        answers.append(LabelledPair(item.pair, best, row[best], row))
    return answers


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
    raw = config.generator.model_copy(update={"threshold": 0.0, "temperature": 1.0})
    extractor = RelationExtractor.from_config(config.model_copy(update={"generator": raw}).without_corrections())
    gold = [str(e.label) for e in held_out]
    calibration_labelled = extractor.label(held_out)
    temperature = fit_temperature([item.scores for item in calibration_labelled], gold, schema.all_labels)
    threshold, value = best_threshold(training.dataset, gold,
                                      at_temperature(calibration_labelled, temperature, schema), schema)
    dev_labelled = extractor.label(data.dev)
    dev_gold = [str(e.label) for e in data.dev]

    def scored(at: float, temperature: float) -> dict[str, Any]:
        labelled = at_temperature(dev_labelled, temperature, schema)
        answers = thresholded(labelled, at, schema.no_relation)
        metrics = standard_metrics(training.dataset, dev_gold, answers, schema)
        given = [item.scores[answer] for item, answer in zip(labelled, answers, strict=True)]
        ece = expected_calibration_error(given, [g == a for g, a in zip(dev_gold, answers, strict=True)])
        return {"threshold": at, "temperature": temperature, "ece": ece, **metrics}

    return Calibration(threshold, temperature, len(held_out), value,
                       scored(config.generator.threshold, config.generator.temperature),
                       scored(config.generator.threshold, temperature), scored(threshold, temperature))
