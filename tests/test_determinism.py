"""A folder's labels do not depend on the torch thread count, on which pairs share a forward pass, or on the
CPU kind: the real default model (float32, ``dtype: auto``) on the pairs of three example documents.

Confidences leave the scorer rounded (``CONFIDENCE_DIGITS``), so every comparison here is exact.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import torch

from kgbuild.config import PipelineConfig, load_pipeline
from kgbuild.entities.pairing import candidate_pairs
from kgbuild.entities.spacy_ner import annotator_for
from kgbuild.read import read_document
from kgbuild.relations.cpu_kind import IMITATE_AVX2
from kgbuild.relations.extractor import RelationExtractor
from kgbuild.types import CandidatePair, LabelledPair

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parent.parent
DOCS = ["01-acme-ceo.txt", "04-merger.html", "10-pharma.html"]

CHILD = """
import json, sys
from kgbuild.config import load_pipeline
from kgbuild.relations.extractor import RelationExtractor
from kgbuild.types import CandidatePair
pairs = [CandidatePair.from_json(p) for p in json.load(sys.stdin)]
extractor = RelationExtractor.from_config(load_pipeline(sys.argv[1]).without_corrections())
print(json.dumps([[r.label, r.confidence] for r in extractor.label(pairs)]))
"""


@pytest.fixture(scope="module")
def config() -> PipelineConfig:
    return load_pipeline(REPO / "pipelines" / "default.yaml").without_corrections()


@pytest.fixture(scope="module")
def extractor(config: PipelineConfig) -> RelationExtractor:
    return RelationExtractor.from_config(config)


@pytest.fixture(scope="module")
def pairs(nlp: Any, config: PipelineConfig) -> list[CandidatePair]:
    annotator = annotator_for(config.entities, nlp)
    documents = [read_document(REPO / "examples" / "docs" / name, config.reader.max_bytes).document for name in DOCS]
    found = [pair for _, sentences in annotator.annotate(d for d in documents if d is not None)
             for pair in candidate_pairs(sentences, config.load_schema())]
    assert len(found) >= 20
    return found


@pytest.fixture
def threads() -> Iterator[None]:
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def outcome(labelled: Sequence[LabelledPair]) -> list[tuple[str, float]]:
    return [(r.label, r.confidence) for r in labelled]


def test_one_and_two_torch_threads_give_the_same_labels_and_confidences(
        extractor: RelationExtractor, pairs: list[CandidatePair], threads: None) -> None:
    torch.set_num_threads(1)
    one = extractor.label(pairs)
    torch.set_num_threads(2)
    two = extractor.label(pairs)
    assert outcome(one) == outcome(two)
    assert [r.scores for r in one] == [r.scores for r in two]  # every label's probability, not only the best
    assert sum(r.label != "no_relation" for r in one) >= 5  # relations to compare, not only no_relation


def test_which_pairs_share_a_forward_pass_does_not_matter(
        extractor: RelationExtractor, pairs: list[CandidatePair]) -> None:
    together = outcome(extractor.label(pairs))
    scorer = extractor.scorer
    packed = scorer.pairs_per_pass
    try:
        scorer.pairs_per_pass = 1  # every pair in a pass of its own: other shapes, other kernels
        alone = outcome(extractor.label(pairs))
    finally:
        scorer.pairs_per_pass = packed
    assert alone == together
    reversed_order = outcome(extractor.label(pairs[::-1]))[::-1]
    assert reversed_order == together


def test_an_avx2_only_cpu_gives_the_same_labels_and_confidences(
        extractor: RelationExtractor, pairs: list[CandidatePair], config: PipelineConfig) -> None:
    """In a child process that runs as an AVX2-only CPU (ATen, oneDNN and MKL, see test_cpu_kind); on an
    AVX2-only machine this compares two AVX2 runs, in two processes."""
    env = {**os.environ, **IMITATE_AVX2}
    run = subprocess.run([sys.executable, "-c", CHILD, str(config.source)], env=env, text=True, check=True,
                         input=json.dumps([p.to_json() for p in pairs]), capture_output=True, timeout=600)
    avx2 = [tuple(row) for row in json.loads(run.stdout.strip().splitlines()[-1])]
    assert avx2 == outcome(extractor.label(pairs))
