"""Retrieval-augmented prompts: the one function that training, evaluation and ingest all call.

The project promises that a model is trained on exactly the text it later labels; that holds
because there is only this one place that pairs a candidate with its retrieved examples.

Examples are retrieved by sentence. With ``retriever.match_types``, when the nearest example joins other
entity types than a pair of the sentence ("ADDIS ABABA , Ethiopia ( AP )" for "Menezes lives in Olinda."),
the nearest example of that pair's types follows it (``choose_examples``), so the model sees how a person and
a place are labelled rather than two places. All pairs of a sentence still share one sentence part, encoded
once: ``k + 1`` examples at most. With ``retriever.example_text: clause`` an example shows only the clause
around its entities (``example_clause``): fewer tokens, for an adapter trained that way.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from kgbuild.config import PipelineConfig
from kgbuild.relations.corrections import correction_examples, read_corrections
from kgbuild.relations.prompt import PairPrompt, PromptBuilder, PromptTemplate
from kgbuild.relations.retrieval import Retriever, SentenceEncoder
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair

TYPE_POOL = 30  # nearest examples per sentence among which ``match_types`` looks for its pairs' types
_CLAUSE_BOUNDARY = re.compile(r"[,;:()\u2013\u2014]|\s-{1,2}\s")


@dataclass(frozen=True)
class RagPrompter:
    builder: PromptBuilder
    retriever: Retriever | None
    k: int
    match_types: bool = False
    clauses: bool = False  # examples cut to the clause around their entities

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
        return cls(builder, retriever, k, config.retriever.match_types, config.retriever.example_text == "clause")

    @property
    def static(self) -> str:
        """The pair-independent prefix whose KV cache the scorer computes once."""
        return self.builder.static

    def prompts(self, pairs: Sequence[CandidatePair], exclude_same_text: bool = False) -> list[PairPrompt]:
        """Each pair's prompt. Retrieval is keyed on the sentence, so pairs of one sentence share their sentence
        part; ``exclude_same_text`` keeps a training example's own sentence out of its examples."""
        sentences = list(dict.fromkeys(p.text for p in pairs))
        if self.retriever is not None:
            found = self.retriever.search(sentences, TYPE_POOL if self.match_types else self.k, exclude_same_text)
        else:
            found = [[] for _ in sentences]
        if self.match_types:
            kinds: dict[str, list[tuple[str, str]]] = {text: [] for text in sentences}
            for pair in pairs:
                kinds[pair.text] = list(dict.fromkeys([*kinds[pair.text], (pair.head.type, pair.tail.type)]))
            found = [choose_examples(hits, kinds[text], self.k) for text, hits in zip(sentences, found, strict=True)]
        if self.clauses:
            found = [[example_clause(e) for e in examples] for examples in found]
        shared = {text: self.builder.sentence_part(text, examples)
                  for text, examples in zip(sentences, found, strict=True)}
        return [PairPrompt(shared[p.text], self.builder.pair_part(p)) for p in pairs]


def choose_examples(ranked: Sequence[CandidatePair], kinds: Sequence[tuple[str, str]], k: int) -> list[CandidatePair]:
    """Examples for a sentence whose pairs join the (head type, tail type) ``kinds``, from the ``ranked`` ones
    (nearest first): the nearest; then, for the kinds the nearest does not join, the nearest example of each,
    nearest first, up to ``k + 1`` examples in all; then the next nearest while fewer than ``k``. The order
    of ``kinds`` never matters, so neither does the order of the pairs."""
    if k == 0 or not ranked:
        return []
    nearest = ranked[0]
    missing = set(kinds) - {(nearest.head.type, nearest.tail.type)}
    firsts = [next((i for i, e in enumerate(ranked) if (e.head.type, e.tail.type) == kind), None) for kind in missing]
    chosen = [nearest, *[ranked[i] for i in sorted(i for i in firsts if i is not None)][:k]]
    chosen += [e for e in ranked if e not in chosen][:max(0, k - len(chosen))]
    return chosen


def example_clause(example: CandidatePair) -> CandidatePair:
    """The example with only the words from the clause boundary (comma, semicolon, colon, bracket or dash)
    before its first entity to the one after its second: "who as an Austin policeman shot and killed ... Charles
    Whitman in 1966 ." for a pair of that relative clause. Offsets shift with the text."""
    text = example.text
    first, last = min(example.head.start, example.tail.start), max(example.head.end, example.tail.end)
    before = [m.end() for m in _CLAUSE_BOUNDARY.finditer(text, 0, first)]
    after = _CLAUSE_BOUNDARY.search(text, last)
    start, end = before[-1] if before else 0, after.start() if after else len(text)
    clause = text[start:end].strip()
    start = text.index(clause, start)
    return replace(example, text=clause,
                   head=replace(example.head, start=example.head.start - start, end=example.head.end - start),
                   tail=replace(example.tail, start=example.tail.start - start, end=example.tail.end - start))
