"""One registry from dataset name to loader and relation schema, in spaCy's registry style.

    @register_dataset("semeval", schema="semeval")
    def load(path: Path, split: str) -> list[CandidatePair]: ...
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from kgbuild.errors import DatasetError
from kgbuild.types import CandidatePair

Loader = Callable[[Path, str], list[CandidatePair]]


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    schema: str
    loader: Loader
    description: str


_REGISTRY: dict[str, DatasetEntry] = {}
_BUILTINS: list[bool] = []  # one True once the built-in loaders are registered: a user's own may come first


def register_dataset(name: str, schema: str, description: str = "") -> Callable[[Loader], Loader]:
    def add(loader: Loader) -> Loader:
        _register_builtins()  # so a user's name that clashes with a built-in one fails here, not later
        if name in _REGISTRY:
            raise ValueError(f"dataset '{name}' is registered twice")
        _REGISTRY[name] = DatasetEntry(name, schema, loader, description or (loader.__doc__ or "").strip())
        return loader

    return add


def get_dataset(name: str) -> DatasetEntry:
    _register_builtins()
    if name not in _REGISTRY:
        raise DatasetError(f"unknown dataset '{name}'; known: {', '.join(sorted(_REGISTRY))}")
    return _REGISTRY[name]


def dataset_schema(name: str) -> str:
    return get_dataset(name).schema


JSONL = "jsonl"
ANY_SCHEMA = "*"  # a dataset of the user's own labels: the pipeline's schema is its schema


def check_dataset_schema(dataset: str, schema_name: str) -> None:
    """Training and evaluation refuse a pipeline whose schema is not the dataset's, with one message."""
    expected = dataset_schema(dataset)
    if expected not in (schema_name, ANY_SCHEMA):
        raise DatasetError(f"dataset '{dataset}' uses schema '{expected}', but the pipeline's schema is "
                           f"'{schema_name}'")


def load_dataset(name: str, path: Path, split: str) -> list[CandidatePair]:
    entry = get_dataset(name)
    if not path.exists():
        raise DatasetError(f"dataset path not found: {path}")
    examples = entry.loader(path, split)
    unlabelled = sum(1 for e in examples if e.label is None)
    if unlabelled:
        raise DatasetError(f"{path}: {unlabelled} examples of split '{split}' have no gold label")
    return examples


def available() -> list[DatasetEntry]:
    _register_builtins()
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def _register_builtins() -> None:
    if _BUILTINS:
        return
    _BUILTINS.append(True)
    from kgbuild.datasets import conll04, default_training, jsonl_examples, redocred, semeval, tacred

    register_dataset("semeval", "semeval", "SemEval-2010 Task 8, official text format")(semeval.load_semeval)
    register_dataset("tacred", "tacred", "TACRED JSON (LDC)")(tacred.load_tacred)
    register_dataset("tacrev", "tacred", "TACRED with the TACREV dev/test patches")(
        lambda path, split: tacred.load_tacrev(path, split))
    register_dataset("retacred", "retacred", "TACRED relabelled by Re-TACRED's id2label files")(
        lambda path, split: tacred.load_retacred(path, split))
    register_dataset("conll04", "conll04", "CoNLL04 JSON (SpERT split)")(
        lambda path, split: conll04.load_conll04(path, split))
    register_dataset("redocred", "redocred", "Re-DocRED, intra-sentence instances")(
        lambda path, split: redocred.load_redocred(path, split))
    register_dataset("kgbuild-default", "default", "CoNLL04 + Re-DocRED dates on the default schema")(
        default_training.load_default_training)
    register_dataset(JSONL, ANY_SCHEMA, "your own examples, one JSON object per line (kgbuild train --examples)")(
        jsonl_examples.load_jsonl_examples)
