"""The RAG relation extractor: retrieval + prompt + constrained label scoring.

Ingest, training-time evaluation and benchmark evaluation all call :meth:`RelationExtractor.label`,
so a benchmark number describes exactly the component that labels the user's documents.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch

from kgbuild.config import PipelineConfig
from kgbuild.relations.corrections import Correction, pair_key, read_corrections, reviewed_labels
from kgbuild.relations.models import load_model
from kgbuild.relations.rag_prompter import RagPrompter
from kgbuild.relations.retrieval import SentenceEncoder
from kgbuild.relations.scorer import LabelScorer
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair, LabelledPair

log = logging.getLogger(__name__)


def unseen_labels(adapter: Path, schema: RelationSchema) -> list[str]:
    """The labels of ``schema`` that the adapter's training schema (``schema.yaml`` beside the adapter
    folder, as ``kgbuild train`` writes it) does not have; empty when there is no such file to compare."""
    trained = adapter.parent / "schema.yaml"
    if not trained.is_file():
        return []
    known = set(RelationSchema.load(trained).all_labels)
    return [label for label in schema.all_labels if label not in known]


@dataclass
class RelationExtractor:
    schema: RelationSchema
    prompter: RagPrompter
    scorer: LabelScorer
    threshold: float
    model_id: str
    reviewed: dict[tuple[str, int, int, int, int], Correction] = field(default_factory=dict)

    @classmethod
    def from_config(cls, config: PipelineConfig, encoder: SentenceEncoder | None = None) -> RelationExtractor:
        schema = config.load_schema()
        prompter = RagPrompter.from_config(config, schema, encoder=encoder)
        gen = config.generator
        if gen.threads is not None:
            torch.set_num_threads(gen.threads)  # process-wide, as torch has it
        adapter = config.adapter_spec()
        if adapter is not None and (new := unseen_labels(Path(adapter), schema)):
            log.warning("the adapter %s was never trained on %s of schema '%s': it will rarely or never answer "
                        "them; teach them with `kgbuild train --examples FILE`", adapter, ", ".join(new), schema.name)
        loaded = load_model(gen.model, kind=gen.kind, adapter=adapter, dtype=gen.dtype, load_in_4bit=gen.load_in_4bit,
                            device=gen.device)
        scorer = LabelScorer(loaded, schema.all_labels, prompter.static, gen.max_prompt_tokens, gen.score,
                             pairs_per_pass=gen.batch_size, temperature=gen.temperature)
        model_id = gen.model if adapter is None else f"{gen.model}+{adapter_name(Path(adapter))}"
        reviewed = reviewed_labels(read_corrections(config.corrections_path()))
        return cls(schema, prompter, scorer, gen.threshold, model_id, reviewed)

    def label(self, pairs: Sequence[CandidatePair],
              on_batch: Callable[[int], None] | None = None) -> list[LabelledPair]:
        """Labels in input order. Pairs are scored a sentence at a time, so a pair's score never depends on
        which other sentences are labelled in the same call (a resumed run gives the same confidences)."""
        labels = self.schema.all_labels
        index = {label: i for i, label in enumerate(labels)}
        no_rel = self.schema.no_relation
        results: dict[int, LabelledPair] = {}
        for row, pair in enumerate(pairs):  # a reviewer's decision stands: the pair is not labelled again
            if (review := self.reviewed.get(pair_key(pair))) is not None and review.label in index:
                label = no_rel if review.decision == "wrong_entity" else review.label
                results[row] = LabelledPair(pair, label, 1.0, {}, (review.reviewed_by, review.reviewed_at))
        prompts = self.prompter.prompts(pairs)
        sentences: dict[tuple[str, int, str, str], list[int]] = {}  # pairs that share a sentence part
        for row, pair in enumerate(pairs):
            if row not in results:
                key = (pair.doc_id, pair.sentence_index, pair.text, prompts[row].sentence)
                sentences.setdefault(key, []).append(row)
        for rows in sentences.values():
            permitted = [
                [index[label] for label in self.schema.allowed_labels(pairs[r].head.type, pairs[r].tail.type)]
                + [index[no_rel]] for r in rows
            ]
            scores = self.scorer.score_sentence(prompts[rows[0]].sentence, [prompts[r].pair for r in rows], permitted)
            for position, row in enumerate(rows):
                label, confidence = labels[scores.best[position]], scores.confidence[position]
                if label != no_rel and confidence < self.threshold:
                    label = no_rel
                probabilities = {lab: float(scores.probabilities[position, i]) for i, lab in enumerate(labels)}
                results[row] = LabelledPair(pairs[row], label, confidence, probabilities)
            if on_batch is not None:
                on_batch(len(rows))
        if on_batch is not None and len(pairs) > sum(map(len, sentences.values())):
            on_batch(len(pairs) - sum(map(len, sentences.values())))
        return [results[row] for row in range(len(pairs))]


def adapter_name(adapter: Path) -> str:
    """What provenance calls an adapter: an artefact's ``adapter/`` folder is named after its artefact."""
    return adapter.parent.name if adapter.name == "adapter" and adapter.parent.name else adapter.name
