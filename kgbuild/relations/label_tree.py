"""The label set as one prefix tree of token ids, used by causal and seq2seq scoring alike.

Nodes are label prefixes after which the model's next-token distribution is read; shared prefixes
("works_for", "works_at") are one node, computed once. Two ways to score a label:

* ``sequence``: the summed log-probability of all its tokens (the label's exact probability under
  the model). Every prefix that some label continues is a node.
* ``stepwise``: constrained decoding's probability. At each step the model's probability is
  renormalised over the tokens that some label allows there, so a forced token (only one allowed)
  has probability 1 and is never fed. Only prefixes that lead to a choice are nodes: for most label
  sets that is a fraction of the tree, and none at all when the first token decides the label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class LabelTree:
    """Internal nodes below the root, flattened in first-seen order (a parent before its children)."""

    prefixes: list[tuple[int, ...]]  # per node: the label tokens fed so far (the node's path)
    tokens: torch.Tensor  # [nodes] the last token of each node's path
    depth: torch.Tensor  # [nodes] path length; 1 for the root's children
    visible: torch.Tensor  # [nodes, nodes] bool: column is an ancestor of (or is) the row
    first_tokens: list[int]  # per label: its first token, scored from the prompt's last position
    label_steps: list[list[tuple[int, int]]]  # per label: (node, next token) for every scored later token
    choices: dict[int, list[int]] | None = None  # stepwise only: node (-1: root) -> the tokens allowed next

    @property
    def size(self) -> int:
        return len(self.prefixes)

    @property
    def labels(self) -> int:
        return len(self.first_tokens)

    @property
    def stepwise(self) -> bool:
        return self.choices is not None

    @classmethod
    def build(cls, sequences: Sequence[Sequence[int]], stepwise: bool = False) -> LabelTree:
        """Every label must end in its own leaf: no sequence may equal or be a prefix of another (append EOS)."""
        whole = [tuple(seq) for seq in sequences]
        followers: dict[tuple[int, ...], list[int]] = {}  # prefix -> distinct next tokens, first-seen order
        for seq in whole:
            for end in range(len(seq)):
                nexts = followers.setdefault(seq[:end], [])
                if seq[end] not in nexts:
                    nexts.append(seq[end])
        if any(not seq for seq in whole) or len(set(whole)) != len(whole) or any(seq in followers for seq in whole):
            raise ValueError("each label's token sequence must end in its own leaf (append EOS)")
        if stepwise:
            branching = {prefix for prefix, nexts in followers.items() if prefix and len(nexts) > 1}
            needed = {prefix[:end] for prefix in branching for end in range(1, len(prefix) + 1)}
        else:
            branching = needed = {prefix for prefix in followers if prefix}
        index = {prefix: i for i, prefix in enumerate(p for p in followers if p in needed)}
        prefixes = list(index)
        visible = torch.zeros((len(prefixes), len(prefixes)), dtype=torch.bool)
        for node, prefix in enumerate(prefixes):
            for end in range(1, len(prefix) + 1):
                visible[node, index[prefix[:end]]] = True
        steps = [[(index[seq[:i]], seq[i]) for i in range(1, len(seq)) if seq[:i] in branching] for seq in whole]
        choices = None
        if stepwise:
            choices = {index[prefix]: followers[prefix] for prefix in branching}
            choices[-1] = followers[()]
        return cls(prefixes, torch.tensor([p[-1] for p in prefixes], dtype=torch.long),
                   torch.tensor([len(p) for p in prefixes], dtype=torch.long), visible,
                   [seq[0] for seq in whole], steps, choices)

    def label_scores(self, first: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        """Log-scores per label from ``first`` [batch, vocab] and ``nodes`` [batch, nodes, vocab] log-probabilities."""
        first, nodes = self._renormalised(first, nodes)
        scores = first[:, self.first_tokens].clone()
        for label, steps in enumerate(self.label_steps):
            for node, token in steps:
                scores[:, label] += nodes[:, node, token]
        return scores

    def _renormalised(self, first: torch.Tensor, nodes: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Stepwise: each distribution renormalised over the tokens allowed after it."""
        if self.choices is None:
            return first, nodes
        first = first - torch.logsumexp(first[:, self.choices[-1]], dim=-1, keepdim=True)
        nodes = nodes.clone()
        for node, allowed in self.choices.items():
            if node >= 0:
                nodes[:, node] -= torch.logsumexp(nodes[:, node, allowed], dim=-1, keepdim=True)
        return first, nodes
