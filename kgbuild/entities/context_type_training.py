"""Fine-tuning the name-type classifier: a LoRA adapter on MiniLM and one linear layer, trained together on
typed names in their sentences (``kgbuild train-types``).

A linear layer over frozen MiniLM vectors mostly learns what a name looks like, and the names of real
documents are new ("Aakash Aerial", "Budimex"). Two things push the classifier towards the words around a
name instead: the adapter lets the encoder itself learn from the task, and in a share of the training
sentences names are swapped for other names of the same class (mention replacement), so the same context is
seen with many names.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kgbuild.datasets.entity_spans import TypedSentence, with_replaced_names
from kgbuild.entities.context_types import CLASSES
from kgbuild.entities.span_encoder import (
    MAX_TOKENS,
    LoraSpec,
    adapter_weights,
    load_encoder_model,
    peft_wrapped,
    span_pieces,
)


@dataclass(frozen=True)
class FineTuning:
    """The training recipe; the defaults are the shipped artefact's (its model card has the dev scores)."""

    lora: LoraSpec = LoraSpec(r=8, alpha=16)
    epochs: int = 2
    batch_size: int = 16
    learning_rate: float = 1e-3
    warmup_steps: int = 50
    dropout: float = 0.1
    replaced_share: float = 0.5  # of the sentences of an epoch, those whose names are swapped ...
    replaced_names: float = 0.7  # ... and in such a sentence, each name's chance of being swapped
    seed: int = 13


@dataclass(frozen=True)
class TrainedTyper:
    weight: np.ndarray  # classes x dimensions
    bias: np.ndarray
    adapter: dict[str, np.ndarray]
    steps: int


def fine_tune(encoder: str, sentences: Sequence[TypedSentence], recipe: FineTuning = FineTuning(),
              on_step: Callable[[int, int], None] | None = None) -> TrainedTyper:
    import torch

    torch.manual_seed(recipe.seed)
    rng = random.Random(recipe.seed)
    tokenizer, base = load_encoder_model(encoder)
    model = peft_wrapped(base, recipe.lora, recipe.dropout)
    head = torch.nn.Linear(int(base.config.hidden_size), len(CLASSES))
    params = [p for p in model.parameters() if p.requires_grad] + list(head.parameters())
    optimiser = torch.optim.AdamW(params, lr=recipe.learning_rate, weight_decay=0.01)
    per_epoch = -(-len(sentences) // recipe.batch_size)
    total = recipe.epochs * per_epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / recipe.warmup_steps) * max(0.0, 1.0 - step / total))
    pool = names_by_class(sentences)
    model.train()
    step = 0
    for _ in range(recipe.epochs):
        order = list(sentences)
        rng.shuffle(order)
        epoch = [with_replaced_names(s, pool, rng, recipe.replaced_names) if rng.random() < recipe.replaced_share
                 else s for s in order]
        for start in range(0, len(epoch), recipe.batch_size):
            vectors, labels = _span_vectors(tokenizer, model, epoch[start:start + recipe.batch_size])
            if labels:
                loss = torch.nn.functional.cross_entropy(head(vectors), torch.tensor(labels))
                optimiser.zero_grad()
                loss.backward()
                optimiser.step()
            schedule.step()
            step += 1
            if on_step is not None:
                on_step(step, total)
    return TrainedTyper(head.weight.detach().numpy().copy(), head.bias.detach().numpy().copy(),
                        adapter_weights(model), step)


def names_by_class(sentences: Sequence[TypedSentence]) -> dict[str, list[str]]:
    """Every training name's words by class, duplicates kept: common names are swapped in more often."""
    pool: dict[str, list[str]] = {label: [] for label in CLASSES}
    for sentence in sentences:
        for start, end, label in sentence.spans:
            pool[label].append(sentence.text[start:end])
    return pool


def _span_vectors(tokenizer: object, model: object, batch: Sequence[TypedSentence]) -> tuple[object, list[int]]:
    import torch

    encoded = tokenizer([s.text for s in batch], return_offsets_mapping=True, truncation=True,  # type: ignore[operator]
                        max_length=MAX_TOKENS, padding=True, return_tensors="pt")
    offsets = encoded.pop("offset_mapping").tolist()
    hidden = model(**encoded).last_hidden_state  # type: ignore[operator]
    vectors, labels = [], []
    for row, sentence in enumerate(batch):
        for pieces, (_, _, label) in zip(span_pieces(offsets[row], [(s, e) for s, e, _ in sentence.spans]),
                                         sentence.spans, strict=True):
            if pieces:
                vectors.append(hidden[row, pieces].mean(dim=0))
                labels.append(CLASSES.index(label))
    return (torch.stack(vectors) if vectors else None), labels
