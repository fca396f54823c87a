"""Temperature scaling (Guo et al., 2017): one number that makes the scorer's confidences mean what they say.

A fine-tuned model is usually over-confident: answers given at 0.84 are right 78% of the time. Dividing
its label scores by a temperature ``T > 1`` before the softmax lowers every confidence without changing
any answer's rank. ``T`` is fitted by minimising the negative log-likelihood of the gold labels on
held-out examples, the pipeline's ``generator.temperature`` applies it at inference.

The scorer hands out probabilities (rounded to 3 digits), not raw scores. Tempering probabilities is
exact up to that rounding: ``softmax(s / T)`` equals ``p ** (1 / T)`` renormalised when ``p = softmax(s)``,
since the two differ by a constant per row. So a fit needs no second pass through the model. A label
rounded to 0 stays 0 here, where the scorer at ``T > 1`` would give it a little; the confidence of the
answer given moves by less than the rounding unit times the number of labels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

# a probability rounded to 0 was below half the rounding unit; labels the schema ruled out stay exactly 0
_FLOOR = 5e-4
_LOW, _HIGH = 0.05, 20.0  # the temperatures searched


def _matrix(scores: Sequence[Mapping[str, float]], labels: Sequence[str]) -> np.ndarray:
    return np.array([[row.get(label, 0.0) for label in labels] for row in scores], dtype=np.float64)


def tempered(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """``probabilities`` (rows sum to 1) as the scorer would give them at ``temperature`` (before rounding)."""
    logs = np.where(probabilities > 0, np.log(np.maximum(probabilities, _FLOOR)), -np.inf) / temperature
    logs -= logs.max(axis=1, keepdims=True)
    exp = np.exp(logs)
    return exp / exp.sum(axis=1, keepdims=True)


def negative_log_likelihood(probabilities: np.ndarray, gold: np.ndarray, temperature: float) -> float:
    rows = np.arange(len(gold))
    floored = np.where(probabilities > 0, probabilities, 0.0)
    floored[rows, gold] = np.maximum(floored[rows, gold], _FLOOR)  # the gold label may have been rounded to 0
    return float(-np.log(tempered(floored, temperature)[rows, gold]).mean())


def fit_temperature(scores: Sequence[Mapping[str, float]], gold: Sequence[str], labels: Sequence[str]) -> float:
    """The temperature with the lowest negative log-likelihood of ``gold`` under ``scores`` (each pair's
    probability per label, at temperature 1), to 3 digits. The likelihood is convex in ``1 / T``, so a
    golden-section search over ``1 / T`` finds its one minimum."""
    if len(scores) != len(gold):
        raise ValueError("one gold label per scored example")
    if not scores:
        return 1.0
    index = {label: i for i, label in enumerate(labels)}
    matrix, targets = _matrix(scores, labels), np.array([index[label] for label in gold])
    lo, hi = 1 / _HIGH, 1 / _LOW
    ratio = (np.sqrt(5) - 1) / 2
    while hi - lo > 1e-5:
        a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
        if negative_log_likelihood(matrix, targets, 1 / a) <= negative_log_likelihood(matrix, targets, 1 / b):
            hi = b
        else:
            lo = a
    return round(1 / ((lo + hi) / 2), 3)


def tempered_scores(scores: Sequence[Mapping[str, float]], labels: Sequence[str], temperature: float,
                    digits: int) -> list[dict[str, float]]:
    """Per-label probabilities at ``temperature``, rounded to ``digits`` as the scorer rounds them."""
    if not scores:
        return []
    matrix = np.round(tempered(_matrix(scores, labels), temperature), digits)
    return [dict(zip(labels, (float(v) for v in row), strict=True)) for row in matrix]
