"""Contextual vectors of character spans of a sentence, from MiniLM, optionally with a LoRA adapter merged in.

The name-type classifier (``context_types.py``) reads a name through these vectors. Its shipped artefact
carries a small LoRA adapter (``kgbuild train-types``), so the encoder itself learned what a name's
neighbours say ("a drone maker based in", "lives in"); the adapter is merged into the weights when it
loads, so reading costs the same as plain MiniLM.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kgbuild.assets import resolve_encoder
from kgbuild.errors import ModelLoadError

MAX_TOKENS = 256  # word pieces read per sentence; a name beyond them gets no vector
LORA_TARGETS = ("query", "key", "value", "intermediate.dense", "output.dense")  # every Linear of the encoder layers


@dataclass(frozen=True)
class LoraSpec:
    """How the adapter was shaped: what peft needs to rebuild it before its weights load."""

    r: int
    alpha: int
    targets: tuple[str, ...] = LORA_TARGETS

    def peft_config(self, dropout: float = 0.0) -> Any:
        from peft import LoraConfig

        return LoraConfig(r=self.r, lora_alpha=self.alpha, lora_dropout=dropout, target_modules=list(self.targets))


def load_encoder_model(spec: str) -> tuple[Any, Any]:
    """The tokenizer and the ``AutoModel`` of an encoder spec (a packaged MiniLM name, a hub id or a folder)."""
    from transformers import AutoModel, AutoTokenizer

    try:
        folder = resolve_encoder(spec)
        return AutoTokenizer.from_pretrained(folder), AutoModel.from_pretrained(folder)
    except OSError as exc:
        raise ModelLoadError(f"cannot load the encoder '{spec}' of the type classifier: {exc}") from None


def adapter_weights(peft_model: Any) -> dict[str, np.ndarray]:
    """The LoRA tensors of a peft model, by their names in its state dict: what an artefact stores."""
    return {name: tensor.detach().cpu().float().numpy() for name, tensor in peft_model.state_dict().items()
            if "lora_" in name}


def peft_wrapped(model: Any, lora: LoraSpec, dropout: float = 0.0) -> Any:
    """``model`` with a fresh LoRA adapter of shape ``lora``."""
    from peft import get_peft_model

    with warnings.catch_warnings():  # peft 0.21 asks transformers 5 a deprecated question; nothing to act on
        warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
        return get_peft_model(model, lora.peft_config(dropout))


def with_adapter(model: Any, lora: LoraSpec, weights: Mapping[str, np.ndarray]) -> Any:
    """``model`` with the adapter's weights merged in; an adapter that does not fit it is one clear error."""
    import torch

    wrapped = peft_wrapped(model, lora)
    expected = set(adapter_weights(wrapped))
    if expected != set(weights):
        missing, extra = sorted(expected - set(weights))[:2], sorted(set(weights) - expected)[:2]
        raise ModelLoadError(f"the type classifier's adapter does not fit its encoder (missing {missing}, "
                             f"unexpected {extra})")
    try:
        wrapped.load_state_dict({name: torch.from_numpy(np.asarray(w)) for name, w in weights.items()}, strict=False)
    except RuntimeError as exc:
        raise ModelLoadError(f"the type classifier's adapter does not fit its encoder: {exc}") from None
    return wrapped.merge_and_unload()


class SpanEncoder:
    """A sentence's word-piece vectors averaged over each span."""

    def __init__(self, spec: str, lora: LoraSpec | None = None,
                 adapter: Mapping[str, np.ndarray] | None = None) -> None:
        import torch

        self._torch = torch
        self.tokenizer, model = load_encoder_model(spec)
        if lora is not None and adapter:
            model = with_adapter(model, lora, adapter)
        self.model = model.eval()

    @property
    def dimension(self) -> int:
        return int(self.model.config.hidden_size)

    def vectors(self, text: str, spans: Sequence[tuple[int, int]]) -> list[np.ndarray | None]:
        """One vector per ``(start, end)`` span of ``text``; None for a span past the token limit. Each sentence
        is encoded alone, without padding, so a vector never depends on the sentences read beside it."""
        batch = self.tokenizer(text, return_offsets_mapping=True, truncation=True, max_length=MAX_TOKENS,
                               return_tensors="pt")
        offsets = batch.pop("offset_mapping")[0].tolist()
        with self._torch.no_grad():
            hidden = self.model(**batch).last_hidden_state[0].numpy()
        out: list[np.ndarray | None] = []
        for pieces in span_pieces(offsets, spans):
            out.append(hidden[pieces].mean(axis=0) if pieces else None)
        return out


def span_pieces(offsets: Sequence[Sequence[int]], spans: Sequence[tuple[int, int]]) -> list[list[int]]:
    """For each character span, the word pieces (by position) that overlap it; special tokens have empty
    offsets and never count."""
    return [[i for i, (a, z) in enumerate(offsets) if z > a and a < end and z > start] for start, end in spans]
