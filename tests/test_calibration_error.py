"""Expected calibration error: 10 equal-width bins, weighted by their share of answers."""

from __future__ import annotations

import pytest

from kgbuild.evaluation.metrics import expected_calibration_error


def test_a_calibrated_model_has_no_error() -> None:
    confidences = [0.75] * 4 + [0.25] * 4
    correct = [True, True, True, False, True, False, False, False]
    assert expected_calibration_error(confidences, correct) == pytest.approx(0.0)


def test_over_confidence_is_the_gap_between_confidence_and_accuracy() -> None:
    # the SemEval example, in miniature: mean confidence 0.9 at accuracy 0.5 in one bin
    assert expected_calibration_error([0.9] * 4, [True, True, False, False]) == pytest.approx(0.4)


def test_bins_are_weighted_by_their_share_and_one_is_the_last_bin() -> None:
    ece = expected_calibration_error([1.0, 1.0, 0.05, 0.05], [True, False, False, False])
    assert ece == pytest.approx(0.5 * 0.5 + 0.5 * 0.05)
    with pytest.raises(ValueError):
        expected_calibration_error([0.5], [])
    assert expected_calibration_error([], []) == 0.0
