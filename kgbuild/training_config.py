"""The ``training`` section of a pipeline file: which benchmark data trains the adapter, and how.

Kept apart from :mod:`kgbuild.config` (which re-exports it) because it is the one section only
``kgbuild train``, ``calibrate`` and ``eval --pipeline-dev`` read.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

DATA_ENV = "KGBUILD_DATA"
DATA_PREFIX = "datasets:"


def data_root() -> Path:
    """Where ``datasets:NAME`` paths point: the folder in ``KGBUILD_DATA``, else the current folder. The
    benchmark data is licensed separately and never ships with kgbuild, so its place is a setting."""
    value = os.environ.get(DATA_ENV, "").strip()
    return Path(os.path.expanduser(value)).resolve() if value else Path.cwd()


class TrainingConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(description="registry name: semeval, tacred, tacrev, retacred, conll04, redocred, ...")
    data: str = Field(description="dataset file or folder in its original layout: datasets:PATH (under "
                                  "$KGBUILD_DATA, else the current folder), or a path relative to the pipeline file")
    train_split: str = "train"
    dev_split: str | None = Field(default=None, description="the dataset's own dev split; else carve one")
    split_seed: int = 13
    dev_fraction: float = Field(default=0.1, gt=0.0, lt=1.0)
    dev_limit: int | None = Field(default=None, description="evaluate on at most this many dev examples")
    output: str
    seed: int = 13
    epochs: float = Field(default=1.0, gt=0.0)
    max_steps: int | None = None
    limit: int | None = None
    negative_ratio: float | None = Field(
        default=None, gt=0.0,
        description="keep at most this many no-relation examples per positive in the training split (seeded); "
                    "the dev split keeps its natural balance",
    )
    batch_size: int = Field(default=8, gt=0)
    cuda_batch_size: int | None = Field(
        default=64, gt=0,
        description="batch size on a CUDA device, which a small batch leaves idle; the learning rate is scaled by "
                    "sqrt(cuda_batch_size / batch_size) and max_steps by batch_size / cuda_batch_size. None: keep "
                    "batch_size everywhere")
    grad_accumulation: int = Field(default=1, gt=0)
    learning_rate: float = Field(default=3e-4, gt=0.0)
    lora_r: int = Field(default=16, gt=0)
    lora_alpha: int = Field(default=32, gt=0)
    lora_dropout: float = Field(default=0.05, ge=0.0, lt=1.0)
    target_modules: list[str] | None = None
    save_every: int = Field(default=100, gt=0)
    select_epoch: bool = Field(
        default=False, description="evaluate the dev split after every epoch and ship the best adapter (the final "
                                   "one when it is as good)")
