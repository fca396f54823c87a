"""Seeded choices over labelled pairs (samples, stratified splits, negative balancing): plain functions
that every loader and workflow may use, with no import of the dataset registry."""

from __future__ import annotations

import random
from collections.abc import Sequence

from kgbuild.types import CandidatePair


def seeded_sample(examples: list[CandidatePair], limit: int, seed: int) -> list[CandidatePair]:
    """At most ``limit`` examples chosen with ``seed``, in input order."""
    if limit >= len(examples):
        return examples
    order = list(range(len(examples)))
    random.Random(seed).shuffle(order)
    return [examples[i] for i in sorted(order[:limit])]


def train_dev_split(examples: Sequence[CandidatePair], dev_fraction: float,
                    seed: int) -> tuple[list[CandidatePair], list[CandidatePair]]:
    """Stratified by label, deterministic for a seed; both halves keep the input order."""
    if not 0.0 < dev_fraction < 1.0:
        raise ValueError("dev_fraction must be between 0 and 1")
    by_label: dict[str, list[int]] = {}
    for index, example in enumerate(examples):
        by_label.setdefault(str(example.label), []).append(index)
    rng = random.Random(seed)
    dev: set[int] = set()
    for label in sorted(by_label):
        indexes = by_label[label]
        rng.shuffle(indexes)
        dev.update(indexes[:round(len(indexes) * dev_fraction)])
    return ([e for i, e in enumerate(examples) if i not in dev], [e for i, e in enumerate(examples) if i in dev])


def balance_negatives(examples: Sequence[CandidatePair], no_relation: str, rng: random.Random,
                      ratio: float = 1.0) -> list[CandidatePair]:
    """Positives, then at most ``ratio`` × as many negatives sampled with ``rng`` (in input order)."""
    positives = [e for e in examples if e.label != no_relation]
    negatives = [e for e in examples if e.label == no_relation]
    keep = set(rng.sample(range(len(negatives)), min(len(negatives), round(len(positives) * ratio))))
    return positives + [e for i, e in enumerate(negatives) if i in keep]
