"""The RAG relation extractor: retrieval + prompt + constrained label scoring.

Ingest, training-time evaluation and benchmark evaluation all call :meth:`RelationExtractor.label`,
so a benchmark number describes exactly the component that labels the user's documents.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kgbuild.config import PipelineConfig
from kgbuild.relations.models import load_model
from kgbuild.relations.rag_prompter import RagPrompter
from kgbuild.relations.retrieval import SentenceEncoder
from kgbuild.relations.scorer import LabelScorer
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair, LabelledPair


@dataclass
class RelationExtractor:
    schema: RelationSchema
    prompter: RagPrompter
    scorer: LabelScorer
    threshold: float
    batch_size: int
    model_id: str

    @classmethod
    def from_config(cls, config: PipelineConfig, encoder: SentenceEncoder | None = None) -> RelationExtractor:
        schema = config.load_schema()
        prompter = RagPrompter.from_config(config, schema, encoder=encoder)
        gen = config.generator
        adapter = config.adapter_spec()
        loaded = load_model(gen.model, kind=gen.kind, adapter=adapter, dtype=gen.dtype, load_in_4bit=gen.load_in_4bit)
        scorer = LabelScorer(loaded, schema.all_labels, prompter.static, gen.max_prompt_tokens, gen.score)
        model_id = gen.model if adapter is None else f"{gen.model}+{adapter_name(Path(adapter))}"
        return cls(schema, prompter, scorer, gen.threshold, gen.batch_size, model_id)

    def label(self, pairs: Sequence[CandidatePair],
              on_batch: Callable[[int], None] | None = None) -> list[LabelledPair]:
        labels = self.schema.all_labels
        index = {label: i for i, label in enumerate(labels)}
        no_rel = self.schema.no_relation
        results: list[LabelledPair] = []
        for start in range(0, len(pairs), self.batch_size):
            batch = pairs[start:start + self.batch_size]
            permitted = [
                [index[label] for label in self.schema.allowed_labels(p.head.type, p.tail.type)] + [index[no_rel]]
                for p in batch
            ]
            scores = self.scorer.score(self.prompter.prompts(batch), permitted)
            for row, pair in enumerate(batch):
                label, confidence = labels[scores.best[row]], scores.confidence[row]
                if label != no_rel and confidence < self.threshold:
                    label = no_rel
                probabilities = {lab: float(scores.probabilities[row, i]) for i, lab in enumerate(labels)}
                results.append(LabelledPair(pair, label, confidence, probabilities))
            if on_batch is not None:
                on_batch(len(batch))
        return results


def adapter_name(adapter: Path) -> str:
    """What provenance calls an adapter: an artefact's ``adapter/`` folder is named after its artefact."""
    return adapter.parent.name if adapter.name == "adapter" and adapter.parent.name else adapter.name
