"""Constrained label generation: score every schema label after the prompt, take the best.

Free-text generation is never used, so the answer is always a valid label. Speed levers,
all on by design because the forward pass is compute-bound on CPU:

* the static prompt prefix is encoded once and its KV cache reused for every pair (causal);
* labels are scored through a token trie, one step per *shared* prefix, not per label;
* pairs are batched (left-padded after the cached prefix, with explicit position ids).

Each label is followed by EOS, so a label that is a prefix of another is still scored fairly.
Confidence is the softmax over label scores (summed log-probabilities, or their mean).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from kgbuild.relations.models import LoadedModel
from kgbuild.relations.prompt import label_text


@dataclass
class _TrieNode:
    token: int
    children: dict[int, _TrieNode] = field(default_factory=dict)
    labels: list[int] = field(default_factory=list)  # label indexes passing through this node

    @property
    def is_leaf(self) -> bool:
        return not self.children


class LabelTrie:
    """Token trie of the label set; every label ends in its own leaf (EOS)."""

    def __init__(self, token_sequences: Sequence[Sequence[int]]) -> None:
        self.root = _TrieNode(token=-1)
        self.size = len(token_sequences)
        ends = []
        for index, tokens in enumerate(token_sequences):
            node = self.root
            node.labels.append(index)
            for token in tokens:
                node = node.children.setdefault(token, _TrieNode(token=token))
                node.labels.append(index)
            ends.append(node)
        if any(not node.is_leaf or len(node.labels) != 1 for node in ends):
            raise ValueError("each label's token sequence must end in its own leaf (append EOS)")

    def internal_nodes(self) -> int:
        stack, count = [self.root], 0
        while stack:
            node = stack.pop()
            if not node.is_leaf:
                count += 1
                stack.extend(node.children.values())
        return count


@dataclass
class TreeInputs:
    """The label trie flattened for one tree-attention pass (internal nodes below the root)."""

    tokens: torch.Tensor  # [nodes] token fed at each internal node
    depth: torch.Tensor  # [nodes] 1 for the root's children
    visible: torch.Tensor  # [nodes, nodes] bool: column is an ancestor of (or is) the row
    first_tokens: list[int]  # per label: its first token, scored from the prompt's last position
    label_steps: list[list[tuple[int, int]]]  # per label: (node fed, next token) for later tokens

    @property
    def size(self) -> int:
        return int(self.tokens.shape[0])

    @classmethod
    def build(cls, sequences: Sequence[Sequence[int]]) -> TreeInputs:
        index: dict[tuple[int, ...], int] = {}
        parents: list[int] = []
        tokens: list[int] = []
        depth: list[int] = []
        for seq in sequences:
            for end in range(1, len(seq)):  # prefixes that are followed by another token
                key = tuple(seq[:end])
                if key not in index:
                    index[key] = len(tokens)
                    tokens.append(seq[end - 1])
                    depth.append(end)
                    parents.append(index[key[:-1]] if end > 1 else -1)
        visible = torch.zeros((len(tokens), len(tokens)), dtype=torch.bool)
        for node in range(len(tokens)):
            walk = node
            while walk >= 0:
                visible[node, walk] = True
                walk = parents[walk]
        steps = [[(index[tuple(seq[:i])], seq[i]) for i in range(1, len(seq))] for seq in sequences]
        return cls(torch.tensor(tokens, dtype=torch.long), torch.tensor(depth, dtype=torch.long), visible,
                   [seq[0] for seq in sequences], steps)


PrefixKV = list[tuple[torch.Tensor, torch.Tensor]]


@torch.no_grad()
def encode_prefix(model: Any, prefix_ids: Sequence[int]) -> PrefixKV:
    """Per-layer keys and values of the static prompt prefix, computed once."""
    device = next(model.parameters()).device
    out = model(input_ids=torch.tensor([list(prefix_ids)], device=device), use_cache=True, logits_to_keep=1)
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


def fit_dynamic(tokenizer: Any, texts: Sequence[str], budget: int) -> list[list[int]]:
    """Token ids of each dynamic prompt, keeping the end of an over-long one: the query, head and tail sit there.

    Training and inference both call this, so they truncate identically."""
    return [tokenizer(t, add_special_tokens=False).input_ids[-budget:] for t in texts]


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
    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else tokenizer.sep_token_id
    if eos is None:
        raise ValueError("the tokenizer has neither an EOS nor a SEP token to end labels with")
    return [tokenizer(label_text(label), add_special_tokens=False).input_ids + [eos] for label in labels]


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
        self.trie = LabelTrie(self.sequences)
        self.tree = TreeInputs.build(self.sequences)
        self.lengths = torch.tensor([len(s) for s in self.sequences], dtype=torch.float32)
        self._prefix_kv: list[tuple[torch.Tensor, torch.Tensor]] | None = None
        self._prefix_ids = tokenizer(static_prefix, add_special_tokens=False).input_ids
        if loaded.kind == "causal" and self._prefix_ids:
            self._prefix_kv = self._encode_prefix()

    @property
    def device(self) -> torch.device:
        return next(self.loaded.model.parameters()).device

    def _encode_prefix(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return encode_prefix(self.loaded.model, self._prefix_ids)

    def dynamic_budget(self) -> int:
        return dynamic_budget(self.loaded.tokenizer, len(self._prefix_ids), self.max_prompt_tokens, self.loaded.kind)

    @torch.no_grad()
    def score(self, dynamic_texts: Sequence[str], allowed: Sequence[Sequence[int]] | None = None) -> LabelScores:
        """Label probabilities for each prompt; ``allowed`` masks labels the schema forbids."""
        if not dynamic_texts:
            return LabelScores([], [], torch.zeros((0, len(self.labels))))
        causal = self.loaded.kind == "causal"
        logp = self._score_causal(dynamic_texts) if causal else self._score_seq2seq(dynamic_texts)
        if self.mean:
            logp = logp / self.lengths
        if allowed is not None:
            mask = torch.full_like(logp, -math.inf)
            for row, indexes in enumerate(allowed):
                mask[row, list(indexes)] = 0.0
            logp = logp + mask
        probabilities = torch.softmax(logp, dim=-1)
        confidence, best = probabilities.max(dim=-1)
        return LabelScores(best.tolist(), confidence.tolist(), probabilities)

    def _tokenize_dynamic(self, texts: Sequence[str]) -> list[list[int]]:
        return fit_dynamic(self.loaded.tokenizer, texts, self.dynamic_budget())

    def _score_causal(self, texts: Sequence[str]) -> torch.Tensor:
        """Two forward passes per batch: the dynamic prompt, then every trie node at once.

        The second pass feeds all internal trie nodes as one sequence with a tree-shaped 4D
        attention mask (each node sees the prompt and its own ancestors), so shared label
        prefixes are computed once and the KV cache is never copied per label.
        """
        model, device = self.loaded.model, self.device
        inputs = prefixed_batch(self._tokenize_dynamic(texts), len(self._prefix_ids),
                                self.loaded.tokenizer.pad_token_id or 0)
        mask, positions, batch = inputs.attention_mask, inputs.positions, len(texts)
        cache = prefix_cache(model, self._prefix_kv, batch)
        out = model(input_ids=inputs.input_ids.to(device), attention_mask=mask.to(device),
                    position_ids=positions.to(device), past_key_values=cache, use_cache=True,
                    logits_to_keep=1)  # only the last position scores the labels' first tokens
        first = torch.log_softmax(out.logits[:, -1].float(), dim=-1)  # [batch, vocab]
        tree = self.tree
        if tree.size == 0:
            return first[:, tree.first_tokens].clone()
        context = mask.to(torch.bool)[:, None, None, :].expand(batch, 1, tree.size, mask.shape[1])
        allowed = torch.cat([context, tree.visible[None, None].expand(batch, 1, -1, -1)], dim=-1)
        dtype = next(model.parameters()).dtype
        additive = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min)
        node_positions = positions[:, -1:] + tree.depth[None, :]
        out = model(input_ids=tree.tokens[None].expand(batch, -1).to(device), attention_mask=additive.to(device),
                    position_ids=node_positions.to(device), past_key_values=cache, use_cache=True)
        nodes = torch.log_softmax(out.logits.float(), dim=-1)  # [batch, nodes, vocab]
        scores = first[:, tree.first_tokens].clone()
        for label, steps in enumerate(tree.label_steps):
            for node, token in steps:
                scores[:, label] += nodes[:, node, token]
        return scores

    def _score_seq2seq(self, texts: Sequence[str]) -> torch.Tensor:
        model, device = self.loaded.model, self.device
        tokenizer = self.loaded.tokenizer
        input_ids, attention_mask = seq2seq_batch(tokenizer, self._prefix_ids, self._tokenize_dynamic(texts),
                                                  tokenizer.pad_token_id or 0)
        encoder = model.get_encoder()
        hidden = encoder(input_ids=input_ids.to(device), attention_mask=attention_mask.to(device)).last_hidden_state
        start = decoder_start_id(model)
        batch = len(texts)
        scores = torch.zeros((batch, len(self.labels)))
        # Depth-wise over the trie: each row is (pair, path of tokens so far).
        rows: list[tuple[int, _TrieNode, list[int]]] = [(b, self.trie.root, [start]) for b in range(batch)]
        while rows:
            index = torch.tensor([b for b, _, _ in rows])
            decoder_ids = torch.tensor([path for _, _, path in rows], device=device)
            out = model(encoder_outputs=(hidden[index],), attention_mask=attention_mask[index].to(device),
                        decoder_input_ids=decoder_ids)
            logprobs = torch.log_softmax(out.logits[:, -1].float(), dim=-1)
            next_rows: list[tuple[int, _TrieNode, list[int]]] = []
            for row_index, (b, node, path) in enumerate(rows):
                for token, child in node.children.items():
                    scores[b, child.labels] += logprobs[row_index, token].item()
                    if not child.is_leaf:
                        next_rows.append((b, child, [*path, token]))
            rows = next_rows
        return scores


def decoder_start_id(model: Any) -> int:
    config = model.config
    start = getattr(config, "decoder_start_token_id", None)
    if start is None and hasattr(config, "decoder"):
        start = getattr(config.decoder, "bos_token_id", None)
    if start is None:
        start = getattr(config, "pad_token_id", 0) or 0
    return int(start)
