"""Prompt encoding shared by the label scorer and the LoRA trainer, so both feed identical tokens.

Truncation, padding, positions and the cached static prefix are decided here once; a change
here changes training and inference together.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch

from kgbuild.relations.device import model_device, to_device
from kgbuild.relations.prompt import label_text

PrefixKV = list[tuple[torch.Tensor, torch.Tensor]]


@torch.no_grad()
def encode_prefix(model: Any, prefix_ids: Sequence[int]) -> PrefixKV:
    """Per-layer keys and values of the static prompt prefix, computed once."""
    ids = to_device(torch.tensor([list(prefix_ids)]), model_device(model))
    out = model(input_ids=ids, use_cache=True, logits_to_keep=1)
    return [(layer.keys, layer.values) for layer in out.past_key_values.layers]


def prefix_cache(model: Any, prefix_kv: PrefixKV | None, batch: int) -> Any:
    """A fresh ``DynamicCache`` holding the prefix for every row (models extend caches in place)."""
    from transformers import DynamicCache

    cache = DynamicCache(config=model.config)
    for layer, (keys, values) in enumerate(prefix_kv or []):
        cache.update(keys.expand(batch, -1, -1, -1).contiguous(), values.expand(batch, -1, -1, -1).contiguous(),
                     layer)
    return cache


@dataclass
class PrefixedBatch:
    """Left-padded pair-dependent tokens that follow a shared, cached prefix of ``prefix_len`` tokens."""

    input_ids: torch.Tensor  # [batch, width]
    attention_mask: torch.Tensor  # [batch, prefix_len + width]: prefix and real tokens 1, padding 0
    positions: torch.Tensor  # [batch, width]: position ids that skip the padding


def prefixed_batch(sequences: Sequence[Sequence[int]], prefix_len: int, pad_id: int) -> PrefixedBatch:
    """Shared by inference and training, so both see exactly the same positions and masks."""
    width = max(len(seq) for seq in sequences)
    input_ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), prefix_len + width), dtype=torch.long)
    mask[:, :prefix_len] = 1
    for row, seq in enumerate(sequences):
        input_ids[row, width - len(seq):] = torch.tensor(list(seq), dtype=torch.long)
        mask[row, prefix_len + width - len(seq):] = 1
    positions = (mask.cumsum(-1) - 1).clamp(min=0)[:, prefix_len:]
    return PrefixedBatch(input_ids, mask, positions)


def dynamic_budget(tokenizer: Any, static_len: int, max_prompt_tokens: int, kind: str) -> int:
    """Tokens left for the pair-dependent prompt part, within the model's own length limit too."""
    limit = max_prompt_tokens
    model_max = getattr(tokenizer, "model_max_length", None)
    if isinstance(model_max, int) and 0 < model_max < 1_000_000:
        limit = min(limit, model_max)
    special = sum(map(len, special_tokens(tokenizer))) if kind == "seq2seq" else 0
    return max(8, limit - static_len - special)


def special_tokens(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The ids a tokenizer puts before and after a text (BERT: [CLS] / [SEP]; T5: none / </s>)."""
    bare = tokenizer("a", add_special_tokens=False).input_ids
    full = tokenizer("a").input_ids
    for start in range(len(full) - len(bare) + 1):
        if full[start:start + len(bare)] == bare:
            return full[:start], full[start + len(bare):]
    return [], []


@dataclass
class SentenceTokens:
    """Token ids of one sentence part and of each of its pairs' parts, after the static prefix."""

    sentence: list[int]
    pairs: list[list[int]]

    def row(self, pair: int) -> list[int]:
        """The whole pair-dependent sequence of one pair, as a model sees it."""
        return [*self.sentence, *self.pairs[pair]]


def fit_sentence(tokenizer: Any, sentence: str, pairs: Sequence[str], budget: int) -> SentenceTokens:
    """Token ids within ``budget`` for every pair: a pair part keeps its end (``Relation:`` sits there), and
    the sentence part keeps its end (the query sentence sits there), leaving room for the longest pair part.

    Training and inference both call this, so they tokenise and truncate identically. Parts are tokenised
    separately; the bundled template splits them at a line break, where BPE tokenisers never merge."""
    pair_ids = [tokenizer(text, add_special_tokens=False).input_ids[-budget:] for text in pairs]
    room = budget - max(map(len, pair_ids), default=0)
    sentence_ids = tokenizer(sentence, add_special_tokens=False).input_ids if room > 0 else []
    return SentenceTokens(sentence_ids[-room:] if room > 0 else [], pair_ids)


def seq2seq_batch(tokenizer: Any, static_ids: Sequence[int], dynamic: Sequence[Sequence[int]],
                  pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Encoder inputs ``special(static + dynamic)``, right-padded; shared by training and inference."""
    head, tail = special_tokens(tokenizer)
    rows = [[*head, *static_ids, *ids, *tail] for ids in dynamic]
    width = max(len(r) for r in rows)
    input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for index, row in enumerate(rows):
        input_ids[index, :len(row)] = torch.tensor(row, dtype=torch.long)
        mask[index, :len(row)] = 1
    return input_ids, mask


def label_token_ids(tokenizer: Any, labels: Sequence[str]) -> list[list[int]]:
    """Each label's tokens as they follow ``Relation:``, ended by EOS so no label is a prefix of another."""
    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
    if eos is None:
        raise ValueError("the tokenizer has neither an EOS nor a SEP token to end labels with")
    return [tokenizer(label_text(label), add_special_tokens=False).input_ids + [eos] for label in labels]


def decoder_start_id(model: Any) -> int:
    config = model.config
    start = getattr(config, "decoder_start_token_id", None)
    if start is None and hasattr(config, "decoder"):
        start = getattr(config.decoder, "bos_token_id", None)
    if start is None:
        start = getattr(config, "pad_token_id", 0) or 0
    return int(start)
