"""The RAG relation extractor: retrieval + prompt + constrained generator.

Ingest, training-time evaluation and benchmark evaluation all call :meth:`RelationExtractor.label`,
so a benchmark number describes exactly the component that labels the user's documents.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kgbuild.config import PipelineConfig
from kgbuild.relations.generator import LabelScorer
from kgbuild.relations.models import load_model
from kgbuild.relations.prompt import PromptBuilder, PromptTemplate
from kgbuild.relations.retrieval import Retriever, SentenceEncoder
from kgbuild.relations.schema import RelationSchema
from kgbuild.types import CandidatePair, LabelledPair

log = logging.getLogger(__name__)


@dataclass
class RelationExtractor:
    schema: RelationSchema
    prompts: PromptBuilder
    scorer: LabelScorer
    retriever: Retriever | None
    k: int
    threshold: float
    batch_size: int
    model_id: str

    @classmethod
    def from_config(cls, config: PipelineConfig, encoder: SentenceEncoder | None = None) -> RelationExtractor:
        schema = load_schema(config)
        prompt_spec = config.prompt
        template = PromptTemplate.load(
            prompt_spec if prompt_spec.startswith("bundled:") else config.resolve_path(prompt_spec)
        )
        builder = PromptBuilder(template, schema)
        gen = config.generator
        adapter = str(config.resolve_path(gen.adapter)) if gen.adapter else None
        loaded = load_model(gen.model, kind=gen.kind, adapter=adapter, dtype=gen.dtype, load_in_4bit=gen.load_in_4bit)
        scorer = LabelScorer(loaded, schema.all_labels, builder.static, gen.max_prompt_tokens, gen.score)
        retriever = None
        bank = resolve_bank(config) if config.retriever.k > 0 else None
        if bank is not None:
            encoder = encoder or SentenceEncoder(config.retriever.encoder, config.retriever.batch_size)
            retriever = Retriever.from_bank(bank, encoder)
        model_id = gen.model if adapter is None else f"{gen.model}+{adapter_name(Path(adapter))}"
        return cls(schema, builder, scorer, retriever, config.retriever.k, gen.threshold, gen.batch_size, model_id)

    def prompts_for(self, pairs: Sequence[CandidatePair], exclude_same_text: bool = False) -> list[str]:
        """The pair-dependent prompt text (after the cached static prefix) for each pair."""
        if self.retriever is not None:
            examples = self.retriever.search([p.text for p in pairs], self.k, exclude_same_text)
        else:
            examples = [[] for _ in pairs]
        return [self.prompts.query(p, ex) for p, ex in zip(pairs, examples, strict=True)]

    def label(self, pairs: Sequence[CandidatePair], exclude_same_text: bool = False,
              on_batch: Callable[[int], None] | None = None) -> list[LabelledPair]:
        labels = self.schema.all_labels
        index = {label: i for i, label in enumerate(labels)}
        no_rel = self.schema.no_relation
        results: list[LabelledPair] = []
        for start in range(0, len(pairs), self.batch_size):
            batch = pairs[start:start + self.batch_size]
            allowed = [
                [index[label] for label in self.schema.allowed_labels(p.head.type, p.tail.type)] + [index[no_rel]]
                for p in batch
            ]
            scores = self.scorer.score(self.prompts_for(batch, exclude_same_text), allowed)
            for row, pair in enumerate(batch):
                label, confidence = labels[scores.best[row]], scores.confidence[row]
                if label != no_rel and confidence < self.threshold:
                    label = no_rel
                probabilities = {lab: float(scores.probabilities[row, i]) for i, lab in enumerate(labels)}
                results.append(LabelledPair(pair, label, confidence, probabilities))
            if on_batch is not None:
                on_batch(len(batch))
        return results


def load_schema(config: PipelineConfig) -> RelationSchema:
    spec = config.schema_
    candidate = config.resolve_path(spec)
    return RelationSchema.load(candidate if candidate.suffix else spec)


def resolve_bank(config: PipelineConfig) -> Path | None:
    bank = config.retriever.bank
    return config.resolve_path(bank) if bank is not None else None


def adapter_name(adapter: Path) -> str:
    """What provenance calls an adapter: an artefact's ``adapter/`` folder is named after its artefact."""
    return adapter.parent.name if adapter.name == "adapter" and adapter.parent.name else adapter.name
