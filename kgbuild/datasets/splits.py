"""Fixed, seeded splits and negative sampling.

Official test splits (SemEval TEST_FILE_FULL, CoNLL04 test, TACRED test) are kept outside the
repository on purpose; tuning happens on dev splits carved here with a fixed seed.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from kgbuild.config import PipelineConfig, TrainingConfig
from kgbuild.datasets.registry import load_dataset
from kgbuild.errors import TrainingError
from kgbuild.types import NO_RELATION, CandidatePair


@dataclass
class TrainingData:
    train: list[CandidatePair]
    dev: list[CandidatePair]
    calibration: list[CandidatePair] = field(default_factory=list)  # dev examples outside the ``dev_limit`` sample


def training_section(config: PipelineConfig) -> TrainingConfig:
    if config.training is None:
        raise TrainingError(f"{config.source or 'pipeline'}: has no 'training' section")
    return config.training


def load_training_data(config: PipelineConfig, limit: int | None = None,
                       no_relation: str = NO_RELATION) -> TrainingData:
    """The training split and a fixed dev split (the dataset's own, or carved with a seed).

    The dev split is the same whatever negatives or limit training keeps, so every workflow that
    scores "the pipeline's dev split" scores the same examples."""
    training = training_section(config)
    data = config.resolve_path(training.data)
    examples = load_dataset(training.dataset, data, training.train_split)
    if training.dev_split is not None:
        train, dev = examples, load_dataset(training.dataset, data, training.dev_split)
    else:
        train, dev = train_dev_split(examples, training.dev_fraction, training.split_seed)
    if training.negative_ratio is not None:
        train = balance_negatives(train, no_relation, random.Random(training.seed), training.negative_ratio)
    if limit is not None:
        train = seeded_sample(train, limit, training.seed)
    calibration: list[CandidatePair] = []
    if training.dev_limit is not None:
        sampled = seeded_sample(dev, training.dev_limit, training.split_seed)
        chosen = {id(example) for example in sampled}
        dev, calibration = sampled, [example for example in dev if id(example) not in chosen]
    return TrainingData(train=train, dev=dev, calibration=calibration)


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
