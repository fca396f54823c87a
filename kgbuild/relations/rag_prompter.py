"""Retrieval-augmented prompts: the one function that training, evaluation and ingest all call.

The project promises that a model is trained on exactly the text it later labels; that holds
because there is only this one place that pairs a candidate with its retrieved examples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kgbuild.config import PipelineConfig
from kgbuild.relations.corrections import correction_examples, read_corrections
from kgbuild.relations.prompt import PairPrompt, PromptBuilder, PromptTemplate
from kgbuild.relations.retrieval import Retriever, SentenceEncoder
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair


@dataclass(frozen=True)
class RagPrompter:
    builder: PromptBuilder
    retriever: Retriever | None
    k: int

    @classmethod
    def from_config(cls, config: PipelineConfig, schema: RelationSchema, *, bank: Path | None = None,
                    encoder: SentenceEncoder | None = None) -> RagPrompter:
        """The pipeline's template and retrieval; ``bank`` replaces the configured bank (training writes its own,
        and uses no corrections). Otherwise the review page's corrections are retrieved with the bank."""
        builder = PromptBuilder(PromptTemplate.load(config.prompt_path()), schema)
        k = config.retriever.k
        corrections = correction_examples(read_corrections(config.corrections_path())) if bank is None else []
        bank = bank if bank is not None else config.bank_path()
        retriever = None
        if k > 0 and bank is not None:
            encoder = encoder or SentenceEncoder(config.retriever.encoder, config.retriever.batch_size)
            retriever = Retriever.from_bank(bank, encoder, corrections)
        return cls(builder, retriever, k)

    @property
    def static(self) -> str:
        """The pair-independent prefix whose KV cache the scorer computes once."""
        return self.builder.static

    def prompts(self, pairs: Sequence[CandidatePair], exclude_same_text: bool = False) -> list[PairPrompt]:
        """Each pair's prompt. Retrieval is keyed on the sentence, so pairs of one sentence share their
        sentence part; ``exclude_same_text`` keeps a training example's own sentence out of its examples."""
        sentences = list(dict.fromkeys(p.text for p in pairs))
        if self.retriever is not None:
            found = self.retriever.search(sentences, self.k, exclude_same_text)
        else:
            found = [[] for _ in sentences]
        shared = {text: self.builder.sentence_part(text, examples)
                  for text, examples in zip(sentences, found, strict=True)}
        return [PairPrompt(shared[p.text], self.builder.pair_part(p)) for p in pairs]
