"""Pairwise precision and recall of entity merges against gold coreference.

A unit is one spelling in one document. Two units with different spellings form a pair; the pair is
*predicted* when resolution gives both the same entity and *gold* when the gold file does. Pairs of
identical spellings (up to case and a leading article) are left out: they merge by key, not by
resolution, and would flatter both numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from itertools import combinations
from typing import Any


@dataclass(frozen=True)
class Unit:
    document: str
    spelling: str
    name_key: str  # normalised spelling without a leading article


def score_merges(predicted: Mapping[Unit, str], gold: Mapping[Unit, str]) -> dict[str, Any]:
    """``predicted``/``gold``: each unit's entity id. Lists every wrong and every missed merge."""
    tp = fp = fn = 0
    wrong, missed = [], []
    for a, b in combinations(sorted(predicted, key=lambda u: (u.document, u.name_key)), 2):
        if a.name_key == b.name_key:
            continue
        said, true = predicted[a] == predicted[b], gold[a] == gold[b]
        tp += said and true
        if said and not true:
            fp += 1
            wrong.append(_pair(a, b))
        elif true and not said:
            fn += 1
            missed.append(_pair(a, b))
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1, "true_merges": tp, "wrong_merges": fp,
            "missed_merges": fn, "units": len(predicted), "wrong": wrong, "missed": missed}


def _pair(a: Unit, b: Unit) -> dict[str, str]:
    return {"a": a.spelling, "a_document": a.document, "b": b.spelling, "b_document": b.document}
