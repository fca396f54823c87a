"""A second opinion on a name's type, read from the words around it.

spaCy's small and medium English models type unfamiliar names badly: "Nordwind Energy" becomes a PERSON,
"Fraserburgh" (in "born in Fraserburgh") an ORG, "Rijksmuseum" a NORP. The schema's pair rule then never
offers the pair, and ``kgbuild eval --dataset docs`` counts the fact as "type rejected".

This module asks a small classifier instead: MiniLM's contextual vectors of the name's word pieces, averaged,
through one linear layer trained on the typed mentions of Re-DocRED and CoNLL04 (``kgbuild train-types``).
It answers one of four coarse classes (``CLASSES``). Within a document the answers for every mention of a
name are averaged, and a name is retyped only when

- the average's best class is a person, an organisation or a place (never ``OTHER``),
- it disagrees with spaCy's type for that mention (a GPE, LOC and FAC all count as a place, so they keep
  spaCy's finer type), and spaCy's type is not NORP taken for a place: "French" and "Japanese" stay
  nationalities (Re-DocRED, which the classifier learns from, types such adjectives as places), and
- its probability, rounded to ``DIGITS`` places, reaches the threshold chosen on the CoNLL04 dev split.

Each sentence is encoded on its own, without padding, so the answer does not depend on which other
sentences a document holds beside it. Offsets and words never change: only what a name is taken for.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from kgbuild.assets import resolve_encoder
from kgbuild.errors import ModelLoadError
from kgbuild.resolution.names import NAME_TYPES
from kgbuild.types import Mention, Sentence, normalise_name

CLASSES = ("ORG", "OTHER", "PERSON", "PLACE")
PLACE_TYPES = frozenset({"GPE", "LOC", "FAC"})
RETYPED_AS = {"ORG": "ORG", "PERSON": "PERSON", "PLACE": "GPE"}  # a name the classifier retypes gets this type
DIGITS = 3  # probabilities are compared after rounding, so last-bit differences between CPU kinds do not count
MAX_TOKENS = 256  # word pieces read per sentence; a name beyond them keeps spaCy's type


def coarse_class(spacy_type: str) -> str:
    """spaCy's OntoNotes type as one of ``CLASSES``."""
    if spacy_type in PLACE_TYPES:
        return "PLACE"
    return spacy_type if spacy_type in ("PERSON", "ORG") else "OTHER"


@dataclass(frozen=True)
class ContextTypeModel:
    """The classifier's weights (classes x dimensions), its bias, the encoder it reads vectors from and the
    threshold chosen on held-out data."""

    weight: np.ndarray
    bias: np.ndarray
    encoder: str
    threshold: float
    classes: tuple[str, ...] = CLASSES

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = vectors.astype(np.float64) @ self.weight.T.astype(np.float64) + self.bias.astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    def save(self, path: Path, card: dict[str, Any] | None = None) -> None:
        from safetensors.numpy import save_file

        path.parent.mkdir(parents=True, exist_ok=True)
        metadata = {"encoder": self.encoder, "threshold": repr(self.threshold), "classes": json.dumps(self.classes),
                    "card": json.dumps(card or {}, sort_keys=True)}
        tmp = path.with_suffix(".tmp")
        save_file({"weight": self.weight.astype(np.float32), "bias": self.bias.astype(np.float32)}, str(tmp),
                  metadata=metadata)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> ContextTypeModel:
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), framework="np") as handle:
                metadata = handle.metadata() or {}
                weight, bias = handle.get_tensor("weight"), handle.get_tensor("bias")
            classes = tuple(json.loads(metadata["classes"]))
            model = cls(weight, bias, metadata["encoder"], float(metadata["threshold"]), classes)
        except (OSError, SafetensorError, KeyError, ValueError, TypeError) as exc:
            raise ModelLoadError(f"cannot read the type classifier {path}: {type(exc).__name__}") from None
        if weight.ndim != 2 or weight.shape[0] != len(classes) or bias.shape != (len(classes),):
            raise ModelLoadError(f"type classifier {path}: weights do not match its {len(classes)} classes")
        return model


class SpanEncoder:
    """Contextual vectors of character spans: a sentence's word-piece vectors averaged over each span."""

    def __init__(self, spec: str) -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self._torch = torch
        try:
            folder = resolve_encoder(spec)
            self.tokenizer = AutoTokenizer.from_pretrained(folder)
            self.model = AutoModel.from_pretrained(folder).eval()
        except OSError as exc:
            raise ModelLoadError(f"cannot load the encoder '{spec}' of the type classifier: {exc}") from None

    @property
    def dimension(self) -> int:
        return int(self.model.config.hidden_size)

    def vectors(self, text: str, spans: Sequence[tuple[int, int]]) -> list[np.ndarray | None]:
        """One vector per ``(start, end)`` span of ``text``; None for a span past the token limit."""
        batch = self.tokenizer(text, return_offsets_mapping=True, truncation=True, max_length=MAX_TOKENS,
                               return_tensors="pt")
        offsets = batch.pop("offset_mapping")[0].tolist()
        with self._torch.no_grad():
            hidden = self.model(**batch).last_hidden_state[0].numpy()
        out: list[np.ndarray | None] = []
        for start, end in spans:
            pieces = [i for i, (a, z) in enumerate(offsets) if z > a and a < end and z > start]
            out.append(hidden[pieces].mean(axis=0) if pieces else None)
        return out


class ContextTyper:
    """Retypes a document's names where the classifier is confident that spaCy was wrong."""

    def __init__(self, model: ContextTypeModel, encoder: SpanEncoder, threshold: float | None = None) -> None:
        self.model = model
        self.encoder = encoder
        self.threshold = model.threshold if threshold is None else threshold

    @classmethod
    def load(cls, path: Path, threshold: float | None = None) -> ContextTyper:
        model = ContextTypeModel.load(path)
        encoder = SpanEncoder(model.encoder)
        if model.weight.shape[1] != encoder.dimension:
            raise ModelLoadError(f"type classifier {path} reads {model.weight.shape[1]} dimensions, but its encoder "
                                 f"'{model.encoder}' gives {encoder.dimension}")
        return cls(model, encoder, threshold)

    def retype(self, sentences: Sequence[Sentence]) -> list[Sentence]:
        chosen = self.name_classes(sentences)
        return [replace(s, mentions=tuple(self._retyped(m, chosen) for m in s.mentions)) for s in sentences]

    def name_classes(self, sentences: Sequence[Sentence]) -> dict[str, str]:
        """Each name's class, where the classifier is sure enough; names it is unsure of are absent."""
        summed: dict[str, np.ndarray] = {}
        counts: dict[str, int] = defaultdict(int)
        for sentence in sentences:
            names = [m for m in sentence.mentions if m.type in NAME_TYPES and not m.refers_to]
            if not names:
                continue
            for mention, vector in zip(names, self.encoder.vectors(sentence.text, [(m.start, m.end) for m in names]),
                                       strict=True):
                if vector is None:
                    continue
                key = normalise_name(mention.text)
                probs = self.model.probabilities(vector[None, :])[0]
                summed[key] = summed[key] + probs if key in summed else probs
                counts[key] += 1
        sure = {key: sure_class(total / counts[key], self.threshold, self.model.classes)
                for key, total in summed.items()}
        return {key: label for key, label in sure.items() if label is not None}

    @staticmethod
    def _retyped(mention: Mention, chosen: dict[str, str]) -> Mention:
        if mention.type not in NAME_TYPES or mention.refers_to:
            return mention
        label = chosen.get(normalise_name(mention.text))
        wanted = mention.type if label is None else retyped(mention.type, label)
        return mention if wanted == mention.type else replace(mention, type=wanted)


def sure_class(probabilities: np.ndarray, threshold: float, classes: Sequence[str] = CLASSES) -> str | None:
    """The class a name is retyped as, or None: the best of ``probabilities`` (rounded to ``DIGITS``; a tie goes
    to the first class), when it is one ``RETYPED_AS`` names and reaches ``threshold``."""
    rounded = np.round(probabilities, DIGITS)
    best = int(np.argmax(rounded))
    label = classes[best]
    return label if label in RETYPED_AS and float(rounded[best]) >= threshold else None


def retyped(spacy_type: str, label: str) -> str:
    """The type a name spaCy typed ``spacy_type`` takes when the classifier is sure it is a ``label``."""
    if label not in RETYPED_AS or coarse_class(spacy_type) == label or (spacy_type == "NORP" and label == "PLACE"):
        return spacy_type
    return RETYPED_AS[label]
