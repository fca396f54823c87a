"""Temperature scaling: fitted on held-out answers, it brings confidence to accuracy without changing answers."""

from __future__ import annotations

import random

import numpy as np
import pytest

from kgbuild.evaluation.metrics import expected_calibration_error
from kgbuild.evaluation.temperature import fit_temperature, tempered, tempered_scores
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair, LabelledPair, Mention
from kgbuild.workflows.calibrate import at_temperature

LABELS = ["a", "b", "c", "no_relation"]


def over_confident(n: int, seed: int = 7) -> tuple[list[dict[str, float]], list[str]]:
    """Answers from a model whose true temperature is 2.5: its scores are 2.5 times too sharp."""
    rng = random.Random(seed)
    scores, gold = [], []
    for _ in range(n):
        logits = np.array([rng.gauss(0, 1.5) for _ in LABELS])
        truth = np.exp(logits) / np.exp(logits).sum()
        gold.append(rng.choices(LABELS, weights=truth.tolist())[0])
        sharp = np.exp(2.5 * logits) / np.exp(2.5 * logits).sum()
        scores.append({label: round(float(p), 3) for label, p in zip(LABELS, sharp, strict=True)})
    return scores, gold


def test_the_fitted_temperature_recovers_the_true_one_and_lowers_the_error() -> None:
    scores, gold = over_confident(4000)
    temperature = fit_temperature(scores, gold, LABELS)
    assert temperature == pytest.approx(2.5, rel=0.1)

    def ece(rows: list[dict[str, float]]) -> float:
        best = [max(LABELS, key=row.__getitem__) for row in rows]
        return expected_calibration_error([row[b] for row, b in zip(rows, best, strict=True)],
                                          [b == g for b, g in zip(best, gold, strict=True)])

    after = tempered_scores(scores, LABELS, temperature, 3)
    assert ece(scores) > 0.1 and ece(after) < 0.03
    for new, old in zip(after, scores, strict=True):  # the same answers, but where rounding made a tie
        answer = max(LABELS, key=new.__getitem__)
        assert answer == max(LABELS, key=old.__getitem__) or sorted(new.values())[-2] == new[answer]


def test_a_calibrated_model_keeps_temperature_one_and_edge_cases() -> None:
    rng = random.Random(3)
    scores, gold = [], []
    for _ in range(3000):
        logits = np.array([rng.gauss(0, 1.5) for _ in LABELS])
        truth = np.exp(logits) / np.exp(logits).sum()
        gold.append(rng.choices(LABELS, weights=truth.tolist())[0])
        scores.append({label: round(float(p), 3) for label, p in zip(LABELS, truth, strict=True)})
    assert fit_temperature(scores, gold, LABELS) == pytest.approx(1.0, abs=0.1)
    assert fit_temperature([], [], LABELS) == 1.0
    with pytest.raises(ValueError):
        fit_temperature(scores, gold[:-1], LABELS)


def test_ruled_out_labels_stay_zero_and_a_gold_label_rounded_to_zero_is_finite() -> None:
    row = np.array([[0.999, 0.0, 0.001, 0.0]])
    assert tempered(row, 4.0)[0, 1] == 0.0 and tempered(row, 4.0)[0, 2] > 0.1
    # the gold label "b" was rounded to 0: the fit stays finite and pulls towards a higher temperature
    assert fit_temperature([{"a": 1.0, "b": 0.0, "c": 0.0, "no_relation": 0.0}] * 3 + [
        {"a": 0.0, "b": 1.0, "c": 0.0, "no_relation": 0.0}], ["b", "b", "b", "b"], LABELS) > 1.0


def test_answers_at_a_temperature_decide_ties_like_the_scorer(default_schema: RelationSchema) -> None:
    pair = CandidatePair("Ann works for Acme.", Mention("Ann", "PERSON", 0, 3), Mention("Acme", "ORG", 14, 18))
    labels = default_schema.all_labels
    scores = {label: 0.0 for label in labels} | {"works_for": 0.5, "no_relation": 0.5}
    answer = at_temperature([LabelledPair(pair, "works_for", 0.5, scores)], 2.0, default_schema)[0]
    assert answer.label == labels[min(labels.index("works_for"), labels.index("no_relation"))]
    assert answer.confidence == 0.5 and sum(answer.scores.values()) == pytest.approx(1.0)
