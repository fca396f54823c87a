"""The label set as one prefix tree of token ids, used by causal and seq2seq scoring alike.

A label's score is the log-probability of its first token after the prompt plus, for each later
token, the log-probability at the tree node of the tokens before it. Nodes are the label prefixes
that some label continues; shared prefixes ("works_for", "works_at") are one node, computed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class LabelTree:
    """Internal nodes below the root, flattened in first-seen order."""

    prefixes: list[tuple[int, ...]]  # per node: the label tokens fed so far (the node's path)
    tokens: torch.Tensor  # [nodes] the last token of each node's path
    depth: torch.Tensor  # [nodes] path length; 1 for the root's children
    visible: torch.Tensor  # [nodes, nodes] bool: column is an ancestor of (or is) the row
    first_tokens: list[int]  # per label: its first token, scored from the prompt's last position
    label_steps: list[list[tuple[int, int]]]  # per label: (node, next token) for every later token

    @property
    def size(self) -> int:
        return len(self.prefixes)

    @property
    def labels(self) -> int:
        return len(self.first_tokens)

    @classmethod
    def build(cls, sequences: Sequence[Sequence[int]]) -> LabelTree:
        """Every label must end in its own leaf: no sequence may equal or be a prefix of another (append EOS)."""
        index: dict[tuple[int, ...], int] = {}
        parents: list[int] = []
        for seq in sequences:
            for end in range(1, len(seq)):  # prefixes that are followed by another token
                key = tuple(seq[:end])
                if key not in index:
                    index[key] = len(parents)
                    parents.append(index[key[:-1]] if end > 1 else -1)
        whole = [tuple(seq) for seq in sequences]
        if any(not seq for seq in whole) or len(set(whole)) != len(whole) or any(seq in index for seq in whole):
            raise ValueError("each label's token sequence must end in its own leaf (append EOS)")
        prefixes = list(index)
        visible = torch.zeros((len(prefixes), len(prefixes)), dtype=torch.bool)
        for node in range(len(prefixes)):
            walk = node
            while walk >= 0:
                visible[node, walk] = True
                walk = parents[walk]
        steps = [[(index[tuple(seq[:i])], seq[i]) for i in range(1, len(seq))] for seq in sequences]
        return cls(prefixes, torch.tensor([p[-1] for p in prefixes], dtype=torch.long),
                   torch.tensor([len(p) for p in prefixes], dtype=torch.long), visible,
                   [seq[0] for seq in sequences], steps)

    def label_scores(self, first: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
        """Summed log-probabilities per label from ``first`` [batch, vocab] and ``nodes`` [batch, nodes, vocab]."""
        scores = first[:, self.first_tokens].clone()
        for label, steps in enumerate(self.label_steps):
            for node, token in steps:
                scores[:, label] += nodes[:, node, token]
        return scores
