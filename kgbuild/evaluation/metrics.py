"""Relation-extraction metrics as the benchmarks define them, plus the paper-compatible one.

Pure functions over parallel lists of gold and predicted labels, tested against hand-computed
cases (``tests/test_metrics.py``).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

from kgbuild.schema import RelationSchema

_DIRECTED = re.compile(r"^(.*)\((e[12]),(e[12])\)$")


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _check(gold: Sequence[str], predicted: Sequence[str]) -> None:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")


def micro_prf(gold: Sequence[str], predicted: Sequence[str], negative: str) -> dict[str, float]:
    """The official TACRED scorer: micro P/R/F1 with the negative label excluded.

    correct = predicted == gold != negative; guessed = predicted != negative; gold = gold != negative.
    """
    _check(gold, predicted)
    correct = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p and g != negative)
    guessed = sum(1 for p in predicted if p != negative)
    actual = sum(1 for g in gold if g != negative)
    precision = correct / guessed if guessed else 0.0
    recall = correct / actual if actual else 0.0
    return {"precision": precision, "recall": recall, "f1": _f1(precision, recall),
            "correct": correct, "guessed": guessed, "gold": actual}


def semeval_base(label: str) -> str:
    match = _DIRECTED.match(label)
    return match.group(1) if match else label


def semeval_official(gold: Sequence[str], predicted: Sequence[str], other: str = "Other") -> dict[str, Any]:
    """SemEval-2010 Task 8 official score: (9+1)-way, directionality taken into account.

    As in ``semeval2010_task8_scorer-v1.2.pl``: per undirected relation R, a prediction is
    correct only with the right direction; P = correct / (predictions of R, wrong directions
    included); R = correct / gold instances of R. The official score is the mean of the per-
    relation F1 over the relations in the gold set, Other excluded.
    """
    _check(gold, predicted)
    correct: Counter[str] = Counter()
    proposed: Counter[str] = Counter()
    actual: Counter[str] = Counter()
    for g, p in zip(gold, predicted, strict=True):
        gold_base, pred_base = semeval_base(g), semeval_base(p)
        actual[gold_base] += 1
        proposed[pred_base] += 1
        if g == p:
            correct[gold_base] += 1
    per_relation: dict[str, dict[str, float]] = {}
    relations = sorted(r for r in actual if r != other)
    for relation in relations:
        precision = correct[relation] / proposed[relation] if proposed[relation] else 0.0
        recall = correct[relation] / actual[relation]
        per_relation[relation] = {"precision": precision, "recall": recall, "f1": _f1(precision, recall),
                                  "support": actual[relation]}
    count = len(relations)
    micro_correct = sum(correct[r] for r in relations)
    micro_proposed = sum(v for k, v in proposed.items() if k != other)
    micro_actual = sum(actual[r] for r in relations)
    micro_p = micro_correct / micro_proposed if micro_proposed else 0.0
    micro_r = micro_correct / micro_actual if micro_actual else 0.0
    return {
        "macro_precision": sum(v["precision"] for v in per_relation.values()) / count if count else 0.0,
        "macro_recall": sum(v["recall"] for v in per_relation.values()) / count if count else 0.0,
        "macro_f1": sum(v["f1"] for v in per_relation.values()) / count if count else 0.0,
        "micro_precision": micro_p,
        "micro_recall": micro_r,
        "micro_f1": _f1(micro_p, micro_r),
        "per_relation": per_relation,
    }


def accuracy(gold: Sequence[str], predicted: Sequence[str]) -> float:
    _check(gold, predicted)
    return sum(1 for g, p in zip(gold, predicted, strict=True) if g == p) / len(gold) if gold else 0.0


def paper_compatible_micro_f1(gold: Sequence[str], predicted: Sequence[str]) -> float:
    """sklearn ``f1_score(average="micro")`` over all labels, no_relation/Other included.

    This is what the seed paper's code reports. For single-label data it equals accuracy, so it
    rewards predicting the majority negative class; the standard metrics above do not.
    """
    from sklearn.metrics import f1_score

    _check(gold, predicted)
    return float(f1_score(list(gold), list(predicted), average="micro")) if gold else 0.0


def per_label_table(gold: Sequence[str], predicted: Sequence[str],
                    labels: Sequence[str]) -> dict[str, dict[str, float]]:
    """Exact-label P/R/F1 and support for every label (the negative one included)."""
    _check(gold, predicted)
    table: dict[str, dict[str, float]] = {}
    for label in labels:
        tp = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p == label)
        guessed = sum(1 for p in predicted if p == label)
        support = sum(1 for g in gold if g == label)
        precision = tp / guessed if guessed else 0.0
        recall = tp / support if support else 0.0
        table[label] = {"precision": precision, "recall": recall, "f1": _f1(precision, recall), "support": support}
    return table


def confusion(gold: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> list[list[int]]:
    """Rows are gold labels, columns predicted labels, both in ``labels`` order."""
    _check(gold, predicted)
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted({label for label in [*gold, *predicted] if label not in index})
    if unknown:
        raise ValueError(f"labels outside the schema's label set: {', '.join(map(repr, unknown[:5]))}")
    matrix = [[0] * len(labels) for _ in labels]
    for g, p in zip(gold, predicted, strict=True):
        matrix[index[g]][index[p]] += 1
    return matrix


FAMILIES = {
    "semeval": "semeval",
    "tacred": "tacred", "tacrev": "tacred", "retacred": "tacred",
    "conll04": "micro", "redocred": "micro", "kgbuild-default": "micro",
}


def headline_name(dataset: str) -> str:
    family = FAMILIES.get(dataset, "micro")
    if family == "semeval":
        return f"{dataset} macro-F1 (official, 9 relations)"
    if family == "tacred":
        return f"{dataset} micro-F1 (no_relation excluded)"
    return f"{dataset} micro-F1 over relation instances (no_relation excluded)"


def standard_metrics(dataset: str, gold: Sequence[str], predicted: Sequence[str],
                     schema: RelationSchema) -> dict[str, Any]:
    """The dataset's standard metric as ``headline_value``, beside the paper-compatible one."""
    family = FAMILIES.get(dataset, "micro")
    labels = schema.all_labels
    result: dict[str, Any] = {
        "dataset": dataset,
        "accuracy": accuracy(gold, predicted),
        "paper_compatible_micro_f1": paper_compatible_micro_f1(gold, predicted),
        "per_label": per_label_table(gold, predicted, labels),
        "labels": labels,
        "confusion": confusion(gold, predicted, labels),
    }
    if family == "semeval":
        official = semeval_official(gold, predicted, schema.no_relation)
        result["semeval_official"] = official
        result["headline_value"] = official["macro_f1"]
    else:
        micro = micro_prf(gold, predicted, schema.no_relation)
        result["micro"] = micro
        result["headline_value"] = micro["f1"]
    result["headline_name"] = headline_name(dataset)
    result["headline"] = f"{result['headline_name']}: {result['headline_value']:.3f}"
    return result


def expected_calibration_error(confidences: Sequence[float], correct: Sequence[bool], bins: int = 10) -> float:
    """ECE over ``bins`` equal-width confidence bins: the mean |accuracy - confidence| per bin, weighted by
    the bin's share of answers. 0 is perfectly calibrated; an over-confident model has mean confidence
    above its accuracy."""
    if len(confidences) != len(correct):
        raise ValueError("one correctness flag per confidence")
    if not confidences:
        return 0.0
    totals = [[0, 0.0, 0] for _ in range(bins)]  # answers, summed confidence, right answers
    for confidence, right in zip(confidences, correct, strict=True):
        slot = totals[min(bins - 1, max(0, int(confidence * bins)))]
        slot[0] += 1
        slot[1] += confidence
        slot[2] += int(right)
    return sum(abs(right - summed) for _, summed, right in totals) / len(confidences)
