"""Fixed, seeded splits and negative sampling.

Official test splits (SemEval TEST_FILE_FULL, CoNLL04 test, TACRED test) are kept outside the
repository on purpose; tuning happens on dev splits carved here with a fixed seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from kgbuild.config import PipelineConfig, TrainingConfig
from kgbuild.datasets.registry import load_dataset
from kgbuild.datasets.sampling import balance_negatives, seeded_sample, train_dev_split
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
    data = config.resolve_data(training.data)
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
