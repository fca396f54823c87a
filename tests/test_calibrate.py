"""Threshold calibration: chosen on held-out dev examples, never on the dev sample it is reported with."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgbuild.config import load_pipeline
from kgbuild.datasets.splits import load_training_data
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair, LabelledPair, Mention
from kgbuild.workflows.calibrate import best_threshold, thresholded

REPO = Path(__file__).resolve().parent.parent


def labelled(label: str, confidence: float) -> LabelledPair:
    pair = CandidatePair("Ann works for Acme.", Mention("Ann", "PERSON", 0, 3), Mention("Acme", "ORG", 14, 18))
    return LabelledPair(pair, label, confidence)


def test_the_threshold_that_maximises_micro_f1_is_chosen(default_schema: RelationSchema) -> None:
    gold = ["works_for", "works_for", "no_relation", "no_relation", "no_relation"]
    predictions = [labelled("works_for", 0.9), labelled("works_for", 0.8), labelled("works_for", 0.6),
                   labelled("works_for", 0.55), labelled("no_relation", 0.99)]
    assert thresholded(predictions, 0.7, "no_relation") == ["works_for", "works_for", "no_relation",
                                                            "no_relation", "no_relation"]
    threshold, f1 = best_threshold("conll04", gold, predictions, default_schema)
    assert threshold == 0.8 and f1 == pytest.approx(1.0)  # the lowest threshold that drops both false positives
    # with no false positives to drop, nothing is raised above zero
    assert best_threshold("conll04", gold[:2], predictions[:2], default_schema) == (0.0, pytest.approx(1.0))


@pytest.mark.data("conll04")
def test_calibration_examples_are_the_dev_split_minus_the_fixed_sample() -> None:
    data = load_training_data(load_pipeline(REPO / "pipelines" / "conll04-rag-lora.yaml"))
    assert len(data.dev) == 400 and len(data.dev) + len(data.calibration) == 1502  # CoNLL04 dev's candidate pairs
    assert not {id(e) for e in data.dev} & {id(e) for e in data.calibration}
