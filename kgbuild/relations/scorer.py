"""Constrained label scoring: every schema label is scored after the prompt, the best one wins.

Nothing is generated freely, so the answer is always a valid label. Speed levers, all on by
design because the forward pass is compute-bound on CPU:

* the static prompt prefix is encoded once and its KV cache reused for every pair (causal);
* labels are scored through one :class:`LabelTree`, one step per *shared* prefix, not per label;
* pairs are batched (left-padded after the cached prefix, with explicit position ids).

Each label is followed by EOS, so a label that is a prefix of another is still scored fairly.
Confidence is the softmax over label scores (summed log-probabilities, or their mean).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import torch

from kgbuild.relations.encoding import (
    decoder_start_id,
    dynamic_budget,
    encode_prefix,
    fit_dynamic,
    label_token_ids,
    prefix_cache,
    prefixed_batch,
    seq2seq_batch,
)
from kgbuild.relations.label_tree import LabelTree
from kgbuild.relations.models import LoadedModel


@dataclass
class LabelScores:
    """Per pair: the chosen label index, its confidence and all label probabilities."""

    best: list[int]
    confidence: list[float]
    probabilities: torch.Tensor  # [batch, labels]


class LabelScorer:
    """Scores a fixed label set after ``static + dynamic`` prompts with one loaded model."""

    def __init__(self, loaded: LoadedModel, labels: Sequence[str], static_prefix: str,
                 max_prompt_tokens: int = 768, score: str = "sum") -> None:
        self.loaded = loaded
        self.labels = list(labels)
        self.static_prefix = static_prefix
        self.max_prompt_tokens = max_prompt_tokens
        self.mean = score == "mean"
        tokenizer = loaded.tokenizer
        self.sequences = label_token_ids(tokenizer, self.labels)
        self.tree = LabelTree.build(self.sequences)
        self.lengths = torch.tensor([len(s) for s in self.sequences], dtype=torch.float32)
        self._prefix_ids = tokenizer(static_prefix, add_special_tokens=False).input_ids
        self._prefix_kv = (encode_prefix(loaded.model, self._prefix_ids)
                           if loaded.kind == "causal" and self._prefix_ids else None)

    @property
    def device(self) -> torch.device:
        return next(self.loaded.model.parameters()).device

    def dynamic_budget(self) -> int:
        return dynamic_budget(self.loaded.tokenizer, len(self._prefix_ids), self.max_prompt_tokens, self.loaded.kind)

    @torch.no_grad()
    def score(self, dynamic_texts: Sequence[str],
              permitted_labels: Sequence[Sequence[int]] | None = None) -> LabelScores:
        """Label probabilities for each prompt; labels outside a row's ``permitted_labels`` get probability 0."""
        if not dynamic_texts:
            return LabelScores([], [], torch.zeros((0, len(self.labels))))
        dynamic = fit_dynamic(self.loaded.tokenizer, dynamic_texts, self.dynamic_budget())
        logp = self._score_causal(dynamic) if self.loaded.kind == "causal" else self._score_seq2seq(dynamic)
        if self.mean:
            logp = logp / self.lengths
        if permitted_labels is not None:
            mask = torch.full_like(logp, -math.inf)
            for row, indexes in enumerate(permitted_labels):
                mask[row, list(indexes)] = 0.0
            logp = logp + mask
        probabilities = torch.softmax(logp, dim=-1)
        confidence, best = probabilities.max(dim=-1)
        return LabelScores(best.tolist(), confidence.tolist(), probabilities)

    def _score_causal(self, dynamic: list[list[int]]) -> torch.Tensor:
        """Two forward passes per batch: the dynamic prompt, then every tree node at once.

        The second pass feeds all tree nodes as one sequence with a tree-shaped 4D attention mask
        (each node sees the prompt and its own ancestors), so shared label prefixes are computed once
        and the KV cache is never copied per label.
        """
        model, device, tree = self.loaded.model, self.device, self.tree
        inputs = prefixed_batch(dynamic, len(self._prefix_ids), self.loaded.tokenizer.pad_token_id or 0)
        mask, positions, batch = inputs.attention_mask, inputs.positions, len(dynamic)
        cache = prefix_cache(model, self._prefix_kv, batch)
        out = model(input_ids=inputs.input_ids.to(device), attention_mask=mask.to(device),
                    position_ids=positions.to(device), past_key_values=cache, use_cache=True,
                    logits_to_keep=1)  # only the last position scores the labels' first tokens
        first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)  # [batch, vocab]
        if tree.size == 0:
            return first[:, tree.first_tokens].clone()
        context = mask.to(torch.bool)[:, None, None, :].expand(batch, 1, tree.size, mask.shape[1])
        sees = torch.cat([context, tree.visible[None, None].expand(batch, 1, -1, -1)], dim=-1)
        dtype = next(model.parameters()).dtype
        additive = torch.zeros(sees.shape, dtype=dtype).masked_fill(~sees, torch.finfo(dtype).min)
        node_positions = positions[:, -1:] + tree.depth[None, :]
        out = model(input_ids=tree.tokens[None].expand(batch, -1).to(device), attention_mask=additive.to(device),
                    position_ids=node_positions.to(device), past_key_values=cache, use_cache=True)
        return tree.label_scores(first, torch.log_softmax(out.logits.float(), dim=-1))

    def _score_seq2seq(self, dynamic: list[list[int]]) -> torch.Tensor:
        """Encode each prompt once, then decode the root and every tree node, one decoder pass per depth."""
        model, device, tree = self.loaded.model, self.device, self.tree
        tokenizer = self.loaded.tokenizer
        input_ids, attention_mask = seq2seq_batch(tokenizer, self._prefix_ids, dynamic, tokenizer.pad_token_id or 0)
        attention_mask = attention_mask.to(device)
        hidden = model.get_encoder()(input_ids=input_ids.to(device), attention_mask=attention_mask).last_hidden_state
        start, batch = decoder_start_id(model), len(dynamic)

        def next_token_logp(paths: list[tuple[int, ...]]) -> torch.Tensor:
            """[batch, len(paths), vocab]: the decoder's next-token log-probabilities after each path."""
            rows = torch.arange(batch).repeat_interleave(len(paths))
            decoder_ids = torch.tensor([[start, *path] for path in paths] * batch, device=device)
            out = model(encoder_outputs=(hidden[rows],), attention_mask=attention_mask[rows],
                        decoder_input_ids=decoder_ids)
            return torch.log_softmax(out.logits[:, -1].float(), dim=-1).view(batch, len(paths), -1)

        first = next_token_logp([()])[:, 0]
        if tree.size == 0:
            return first[:, tree.first_tokens].clone()
        nodes = torch.empty((batch, tree.size, first.shape[-1]))
        for depth in sorted(set(tree.depth.tolist())):
            members = [i for i, prefix in enumerate(tree.prefixes) if len(prefix) == depth]
            nodes[:, members] = next_token_logp([tree.prefixes[i] for i in members]).cpu()
        return tree.label_scores(first.cpu(), nodes)
