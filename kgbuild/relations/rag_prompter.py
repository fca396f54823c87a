"""Retrieval-augmented prompts: the one function that training, evaluation and ingest all call.

The project promises that a model is trained on exactly the text it later labels; that holds
because there is only this one place that pairs a candidate with its retrieved examples.

Examples are retrieved by sentence. With ``retriever.match_types``, a pair whose nearest example joins other
entity types ("ADDIS ABABA , Ethiopia ( AP )" for "Menezes lives in Olinda.") gets, after that nearest one,
the nearest examples whose head and tail types are its own (``choose_examples``), so the model sees how a
person and a place are labelled rather than two places; pairs of one sentence and one type pair share
their examples.
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

TYPE_POOL = 30  # nearest examples per sentence among which ``match_types`` looks for the pair's types


@dataclass(frozen=True)
class RagPrompter:
    builder: PromptBuilder
    retriever: Retriever | None
    k: int
    match_types: bool = False

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
        return cls(builder, retriever, k, config.retriever.match_types)

    @property
    def static(self) -> str:
        """The pair-independent prefix whose KV cache the scorer computes once."""
        return self.builder.static

    def prompts(self, pairs: Sequence[CandidatePair], exclude_same_text: bool = False) -> list[PairPrompt]:
        """Each pair's prompt. Retrieval is keyed on the sentence, so pairs of one sentence (and, with
        ``match_types``, one type pair) share their sentence part; ``exclude_same_text`` keeps a training
        example's own sentence out of its examples."""
        sentences = list(dict.fromkeys(p.text for p in pairs))
        if self.retriever is not None:
            found = self.retriever.search(sentences, TYPE_POOL if self.match_types else self.k, exclude_same_text)
        else:
            found = [[] for _ in sentences]
        nearest = dict(zip(sentences, found, strict=True))
        shared: dict[tuple[str, str, str], str] = {}
        prompts = []
        for pair in pairs:
            key = (pair.text, pair.head.type, pair.tail.type) if self.match_types else (pair.text, "", "")
            if key not in shared:
                examples = (choose_examples(nearest[pair.text], pair.head.type, pair.tail.type, self.k)
                            if self.match_types else nearest[pair.text])
                shared[key] = self.builder.sentence_part(pair.text, examples)
            prompts.append(PairPrompt(shared[key], self.builder.pair_part(pair)))
        return prompts


def choose_examples(ranked: Sequence[CandidatePair], head_type: str, tail_type: str, k: int) -> list[CandidatePair]:
    """``k`` of the ``ranked`` examples (nearest first): the plain top ``k`` when the nearest one joins the pair's
    types; otherwise the nearest, then the nearest that join ``head_type`` and ``tail_type``, then the rest."""
    def fits(example: CandidatePair) -> bool:
        return (example.head.type, example.tail.type) == (head_type, tail_type)

    if not ranked or fits(ranked[0]):
        return list(ranked[:k])
    rest = ranked[1:]
    return [ranked[0], *[e for e in rest if fits(e)], *[e for e in rest if not fits(e)]][:k]
