"""Constrained label scoring: every schema label is scored after the prompt, the best one wins.

Nothing is generated freely, so the answer is always a valid label. Speed levers, all on by
design because the forward pass is compute-bound on CPU:

* the static prompt prefix is encoded once and its KV cache reused for every sentence (causal);
* a sentence's retrieved examples and text are encoded once and shared by all its pairs;
* labels are scored through one :class:`LabelTree`, one step per *shared* prefix, not per label,
  in the same forward pass as the pair's own tokens.

Each label is followed by EOS, so a label that is a prefix of another is still scored fairly.
Confidence is the softmax over label scores: summed log-probabilities (``sum``), their mean, or
constrained decoding's stepwise-renormalised probability (``stepwise``, which feeds only the label
tokens that decide between labels; see :mod:`kgbuild.relations.label_tree`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch

from kgbuild.relations.device import model_device, to_device
from kgbuild.relations.encoding import (
    PrefixKV,
    decoder_start_id,
    dynamic_budget,
    encode_prefix,
    fit_sentence,
    label_token_ids,
    prefix_cache,
    seq2seq_batch,
)
from kgbuild.relations.label_tree import LabelTree
from kgbuild.relations.models import LoadedModel
from kgbuild.relations.prompt import PairPrompt

SHAPE_BUCKET = 16  # forward-pass lengths are padded to a multiple of this
# Probabilities and confidences leave the scorer rounded to this many digits. Thread counts and CPU kinds
# (AVX2, AVX512) move float32 scores by up to ~1e-5 (docs/PERFORMANCE.md, "Determinism"), so the graph
# is the same on each; only a value within that distance of a rounding step can still differ.
CONFIDENCE_DIGITS = 3


def _bucketed(length: int) -> int:
    """Fewer distinct shapes: oneDNN compiles and caches a kernel per shape, and with one shape per
    sentence length that cache grew with the corpus (docs/PERFORMANCE.md)."""
    return -(-length // SHAPE_BUCKET) * SHAPE_BUCKET


@dataclass(frozen=True)
class SentenceContext:
    """The cached keys and values a sentence's pairs attend to."""

    kv: PrefixKV | None
    length: int  # real tokens: static prefix + sentence part; the pairs' positions continue from here
    cached: int  # cached tokens, the sentence part's padding included


@dataclass
class LabelScores:
    """Per pair: the chosen label index, its confidence and all label probabilities."""

    best: list[int]
    confidence: list[float]
    probabilities: torch.Tensor  # [batch, labels], float64, rounded to CONFIDENCE_DIGITS


class LabelScorer:
    """Scores a fixed label set after ``static + sentence part + pair part`` prompts with one loaded model.

    Causal models, per sentence: one forward pass encodes the sentence part after the cached static
    prefix; then each pass of up to ``pairs_per_pass`` pairs feeds every pair's tokens followed by its
    own copy of the label tree, as one sequence whose attention mask keeps pairs apart (each sees the
    prefix, the sentence and itself). Padding (to a shape bucket) depends only on the sentence's own
    lengths, and the work for a sentence never depends on other sentences, so a pair's score is the
    same whatever else is labelled with it.
    """

    def __init__(self, loaded: LoadedModel, labels: Sequence[str], static_prefix: str,
                 max_prompt_tokens: int = 768, score: str = "sum", pairs_per_pass: int = 8,
                 temperature: float = 1.0) -> None:
        if temperature <= 0:
            raise ValueError("temperature must be positive")
        self.loaded = loaded
        self.temperature = temperature
        self.labels = list(labels)
        self.static_prefix = static_prefix
        self.max_prompt_tokens = max_prompt_tokens
        self.mean = score == "mean"
        self.pairs_per_pass = max(1, pairs_per_pass)
        tokenizer = loaded.tokenizer
        self.sequences = label_token_ids(tokenizer, self.labels)
        self.tree = LabelTree.build(self.sequences, stepwise=score == "stepwise")
        self.lengths = torch.tensor([len(s) for s in self.sequences], dtype=torch.float32)
        self._prefix_ids = tokenizer(static_prefix, add_special_tokens=False).input_ids
        self._prefix_kv = (encode_prefix(loaded.model, self._prefix_ids)
                           if loaded.kind == "causal" and self._prefix_ids else None)
        self._pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id)
        self.forward_passes = 0  # counted for the structural test and the benchmarks
        self.tokens_fed = 0
        self.forward_hooks: list[Callable[[dict[str, Any]], None]] = []  # see each pass's inputs (benchmarks)

    @property
    def device(self) -> torch.device:
        return model_device(self.loaded.model)

    def dynamic_budget(self) -> int:
        return dynamic_budget(self.loaded.tokenizer, len(self._prefix_ids), self.max_prompt_tokens, self.loaded.kind)

    def score(self, prompts: Sequence[PairPrompt],
              permitted_labels: Sequence[Sequence[int]] | None = None) -> LabelScores:
        """Label probabilities for each prompt; pairs with the same sentence part are scored together."""
        groups: dict[str, list[int]] = {}
        for row, prompt in enumerate(prompts):
            groups.setdefault(prompt.sentence, []).append(row)
        logp = torch.zeros((len(prompts), len(self.labels)))
        for sentence, rows in groups.items():
            logp[rows] = self._log_scores(sentence, [prompts[row].pair for row in rows])
        return self._decide(logp, permitted_labels)

    def score_sentence(self, sentence: str, pairs: Sequence[str],
                       permitted_labels: Sequence[Sequence[int]] | None = None) -> LabelScores:
        """Label probabilities for the pairs of one sentence part."""
        return self._decide(self._log_scores(sentence, pairs), permitted_labels)

    def _decide(self, logp: torch.Tensor, permitted_labels: Sequence[Sequence[int]] | None) -> LabelScores:
        """Labels outside a row's ``permitted_labels`` get probability 0; confidence is the softmax maximum,
        after dividing the scores by ``temperature`` (fitted by ``kgbuild calibrate``: above 1 tempers an
        over-confident model). Probabilities leave rounded to :data:`CONFIDENCE_DIGITS`, the label decided on
        the rounded values."""
        if self.mean:
            logp = logp / self.lengths
        logp = logp / self.temperature
        if permitted_labels is not None:
            mask = torch.full_like(logp, -math.inf)
            for row, indexes in enumerate(permitted_labels):
                mask[row, list(indexes)] = 0.0
            logp = logp + mask
        probabilities = torch.round(torch.softmax(logp.double(), dim=-1), decimals=CONFIDENCE_DIGITS)
        rows = probabilities.tolist()
        best = [max(range(len(row)), key=row.__getitem__) for row in rows]  # a tie: the label listed first
        return LabelScores(best, [row[i] for row, i in zip(rows, best, strict=True)], probabilities)

    @torch.no_grad()
    def _log_scores(self, sentence: str, pairs: Sequence[str]) -> torch.Tensor:
        if not pairs:
            return torch.zeros((0, len(self.labels)))
        tokens = fit_sentence(self.loaded.tokenizer, sentence, pairs, self.dynamic_budget())
        if any(not ids for ids in tokens.pairs):
            raise ValueError("a pair part encodes to no tokens; the template's pair lines must not be empty")
        if self.loaded.kind != "causal":
            return torch.cat([self._score_seq2seq([tokens.row(i) for i in chunk])
                              for chunk in _chunks(len(pairs), self.pairs_per_pass)])
        context = self._encode_sentence(tokens.sentence)
        return torch.cat([self._score_pairs(context, [tokens.pairs[i] for i in chunk])
                          for chunk in _chunks(len(pairs), self.pairs_per_pass)])

    def _cache(self, kv: PrefixKV | None) -> Any:
        """A fresh cache over ``kv``; with one row nothing is copied, and the model appends by concatenation."""
        return prefix_cache(self.loaded.model, kv, 1)

    def _forward(self, real_tokens: int, **inputs: Any) -> Any:
        self.forward_passes += 1
        self.tokens_fed += real_tokens
        for hook in self.forward_hooks:
            hook(inputs)
        return self.loaded.model(use_cache=True, **inputs)

    def _encode_sentence(self, sentence: list[int]) -> SentenceContext:
        """Keys and values of static prefix + sentence part. The part is padded at its end to a shape
        bucket; causal attention keeps the padding out of the real tokens, and pairs never see it."""
        start = len(self._prefix_ids)
        if not sentence:
            return SentenceContext(self._prefix_kv, start, start)
        cache = self._cache(self._prefix_kv)
        padded = _bucketed(len(sentence))
        ids = [*sentence, *[self._pad_id] * (padded - len(sentence))]
        inputs = to_device({"input_ids": torch.tensor([ids]),
                            "position_ids": torch.arange(start, start + padded)[None]}, self.device)
        self._forward(len(sentence), **inputs, past_key_values=cache, logits_to_keep=1)
        return SentenceContext([(layer.keys, layer.values) for layer in cache.layers], start + len(sentence),
                               start + padded)

    def _score_pairs(self, context: SentenceContext, pairs: list[list[int]]) -> torch.Tensor:
        """One pass for several pairs of one sentence: each pair's tokens, then its label tree."""
        kv, context_len, cached = context.kv, context.length, context.cached
        tree, device = self.tree, self.device
        ids: list[int] = []
        positions: list[int] = []
        blocks: list[tuple[int, int]] = []  # per pair: (start of its tokens, number of its tokens)
        for pair in pairs:
            blocks.append((len(ids), len(pair)))
            ids += [*pair, *tree.tokens.tolist()]
            positions += [context_len + i for i in range(len(pair))]
            positions += (context_len + len(pair) - 1 + tree.depth).tolist()
        real = len(ids)
        ids += [self._pad_id] * (_bucketed(real) - real)  # padding rows: attend to the context only, never read
        positions += [context_len] * (len(ids) - real)
        sees = torch.zeros((len(ids), cached + len(ids)), dtype=torch.bool)
        sees[:, :context_len] = True  # the cached sentence padding (context_len..cached) stays unseen
        keep: list[int] = []
        for start, length in blocks:
            pair_cols = slice(cached + start, cached + start + length)
            sees[start:start + length, pair_cols] = torch.ones((length, length), dtype=torch.bool).tril()
            nodes = slice(start + length, start + length + tree.size)
            sees[nodes, pair_cols] = True
            sees[nodes, cached + nodes.start:cached + nodes.stop] = tree.visible
            keep += [start + length - 1, *range(nodes.start, nodes.stop)]
        dtype = next(self.loaded.model.parameters()).dtype
        additive = torch.zeros(sees.shape, dtype=dtype).masked_fill(~sees, torch.finfo(dtype).min)
        inputs = to_device({"input_ids": torch.tensor([ids]), "attention_mask": additive[None, None],
                            "position_ids": torch.tensor([positions]), "logits_to_keep": torch.tensor(keep)}, device)
        out = self._forward(real, **inputs, past_key_values=self._cache(kv))
        logp = torch.log_softmax(out.logits[0].float(), dim=-1).cpu().view(len(pairs), 1 + tree.size, -1)
        return tree.label_scores(logp[:, 0], logp[:, 1:])

    def _score_seq2seq(self, dynamic: list[list[int]]) -> torch.Tensor:
        """Encode each prompt once, then decode the root and every tree node, one decoder pass per depth."""
        model, device, tree = self.loaded.model, self.device, self.tree
        tokenizer = self.loaded.tokenizer
        input_ids, attention_mask = to_device(
            seq2seq_batch(tokenizer, self._prefix_ids, dynamic, tokenizer.pad_token_id or 0), device)
        hidden = model.get_encoder()(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        start, batch = decoder_start_id(model), len(dynamic)

        def next_token_logp(paths: list[tuple[int, ...]]) -> torch.Tensor:
            """[batch, len(paths), vocab]: the decoder's next-token log-probabilities after each path."""
            rows = to_device(torch.arange(batch).repeat_interleave(len(paths)), device)
            decoder_ids = to_device(torch.tensor([[start, *path] for path in paths] * batch), device)
            out = model(encoder_outputs=(hidden[rows],), attention_mask=attention_mask[rows],
                        decoder_input_ids=decoder_ids)
            return torch.log_softmax(out.logits[:, -1].float(), dim=-1).view(batch, len(paths), -1)

        first = next_token_logp([()])[:, 0]
        nodes = torch.empty((batch, tree.size, first.shape[-1]))
        for depth in sorted(set(tree.depth.tolist())):
            members = [i for i, prefix in enumerate(tree.prefixes) if len(prefix) == depth]
            nodes[:, members] = next_token_logp([tree.prefixes[i] for i in members]).cpu()
        return tree.label_scores(first.cpu(), nodes)


def _chunks(size: int, step: int) -> list[range]:
    return [range(start, min(start + step, size)) for start in range(0, size, step)]
