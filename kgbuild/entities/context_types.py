"""A second opinion on a name's type, read from the words around it.

spaCy's small and medium English models type unfamiliar names badly: "Nordwind Energy" becomes a PERSON,
"Fraserburgh" (in "born in Fraserburgh") an ORG, "Rijksmuseum" a NORP. The schema's pair rule then never
offers the pair, and ``kgbuild eval --dataset docs`` counts the fact as "type rejected".

This module asks a small classifier instead: MiniLM's contextual vectors of the name's word pieces, averaged,
through one linear layer, both trained on the typed mentions of Re-DocRED and CoNLL04 (``kgbuild train-types``:
a LoRA adapter on MiniLM and the layer, fine-tuned together; an artefact without an adapter reads plain MiniLM).
It answers one of four coarse classes (``CLASSES``). Within a document the answers for every mention of a
name are averaged, and a name is retyped only when

- the average's best class is a person, an organisation or a place (never ``OTHER``),
- it disagrees with spaCy's type for that mention (a GPE, LOC and FAC all count as a place, so they keep
  spaCy's finer type), and spaCy's type is not NORP taken for a place: "French" and "Japanese" stay
  nationalities (Re-DocRED, which the classifier learns from, types such adjectives as places), and
- its probability, rounded to ``DIGITS`` places, reaches the threshold chosen on the CoNLL04 dev split.

A run of proper nouns spaCy's NER left out ("lock Sione Vaifale", "The Museo Textil de Oaxaca") comes as an
``UNTYPED`` mention (``entities.proper_nouns``): it becomes a name of the class the classifier is sure of, or
no mention at all.

Each sentence is encoded on its own, without padding, so the answer does not depend on which other
sentences a document holds beside it. Offsets and words never change: only what a name is taken for.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from kgbuild.entities.name_spans import UNTYPED
from kgbuild.entities.span_encoder import LoraSpec, SpanEncoder
from kgbuild.errors import ModelLoadError
from kgbuild.resolution.names import NAME_TYPES
from kgbuild.types import Mention, Sentence, normalise_name

CLASSES = ("ORG", "OTHER", "PERSON", "PLACE")
PLACE_TYPES = frozenset({"GPE", "LOC", "FAC"})
RETYPED_AS = {"ORG": "ORG", "PERSON": "PERSON", "PLACE": "GPE"}  # a name the classifier retypes gets this type
ADAPTER_PREFIX = "adapter."  # the LoRA tensors' names in the artefact
DIGITS = 3  # probabilities are compared after rounding, so last-bit differences between CPU kinds do not count


def coarse_class(spacy_type: str) -> str:
    """spaCy's OntoNotes type as one of ``CLASSES``."""
    if spacy_type in PLACE_TYPES:
        return "PLACE"
    return spacy_type if spacy_type in ("PERSON", "ORG") else "OTHER"


@dataclass(frozen=True)
class ContextTypeModel:
    """The classifier's weights (classes x dimensions), its bias, the encoder it reads vectors from, the
    threshold chosen on held-out data, and the LoRA adapter fine-tuned into that encoder, if any."""

    weight: np.ndarray
    bias: np.ndarray
    encoder: str
    threshold: float
    classes: tuple[str, ...] = CLASSES
    lora: LoraSpec | None = None
    adapter: dict[str, np.ndarray] = field(default_factory=dict)

    def probabilities(self, vectors: np.ndarray) -> np.ndarray:
        logits = vectors.astype(np.float64) @ self.weight.T.astype(np.float64) + self.bias.astype(np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return np.asarray(exp / exp.sum(axis=1, keepdims=True))

    def span_encoder(self) -> SpanEncoder:
        """The encoder this classifier reads, its adapter merged in."""
        return SpanEncoder(self.encoder, self.lora, self.adapter)

    def save(self, path: Path, card: dict[str, Any] | None = None) -> None:
        from safetensors.numpy import save_file

        path.parent.mkdir(parents=True, exist_ok=True)
        metadata = {"encoder": self.encoder, "threshold": repr(self.threshold), "classes": json.dumps(self.classes),
                    "card": json.dumps(card or {}, sort_keys=True)}
        if self.lora is not None:
            metadata["lora"] = json.dumps({"r": self.lora.r, "alpha": self.lora.alpha, "targets": self.lora.targets})
        tensors = {"weight": self.weight.astype(np.float32), "bias": self.bias.astype(np.float32)}
        tensors |= {ADAPTER_PREFIX + name: np.ascontiguousarray(w, dtype=np.float32)
                    for name, w in self.adapter.items()}
        tmp = path.with_suffix(".tmp")
        save_file(tensors, str(tmp), metadata=metadata)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> ContextTypeModel:
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), framework="np") as handle:
                metadata = handle.metadata() or {}
                weight, bias = handle.get_tensor("weight"), handle.get_tensor("bias")
                adapter = {key.removeprefix(ADAPTER_PREFIX): handle.get_tensor(key) for key in handle.keys()  # noqa: SIM118
                           if key.startswith(ADAPTER_PREFIX)}
            classes = tuple(json.loads(metadata["classes"]))
            lora = _lora_spec(metadata["lora"]) if "lora" in metadata else None
            model = cls(weight, bias, metadata["encoder"], float(metadata["threshold"]), classes, lora, adapter)
        except (OSError, SafetensorError, KeyError, ValueError, TypeError) as exc:
            raise ModelLoadError(f"cannot read the type classifier {path}: {type(exc).__name__}") from None
        if weight.ndim != 2 or weight.shape[0] != len(classes) or bias.shape != (len(classes),):
            raise ModelLoadError(f"type classifier {path}: weights do not match its {len(classes)} classes")
        if bool(adapter) != (lora is not None):
            raise ModelLoadError(f"type classifier {path}: an adapter needs both its weights and its shape")
        return model


def _lora_spec(text: str) -> LoraSpec:
    shape = json.loads(text)
    return LoraSpec(int(shape["r"]), int(shape["alpha"]), tuple(str(t) for t in shape["targets"]))


class ContextTyper:
    """Retypes a document's names where the classifier is confident that spaCy was wrong."""

    def __init__(self, model: ContextTypeModel, encoder: SpanEncoder, threshold: float | None = None) -> None:
        self.model = model
        self.encoder = encoder
        self.threshold = model.threshold if threshold is None else threshold

    @classmethod
    def load(cls, path: Path, threshold: float | None = None) -> ContextTyper:
        model = ContextTypeModel.load(path)
        encoder = model.span_encoder()
        if model.weight.shape[1] != encoder.dimension:
            raise ModelLoadError(f"type classifier {path} reads {model.weight.shape[1]} dimensions, but its encoder "
                                 f"'{model.encoder}' gives {encoder.dimension}")
        return cls(model, encoder, threshold)

    def retype(self, sentences: Sequence[Sentence], chosen: dict[str, str] | None = None) -> list[Sentence]:
        """``chosen``: :meth:`name_classes` of these sentences, when the caller needed them too. An ``UNTYPED``
        mention the classifier is unsure of leaves its sentence."""
        chosen = self.name_classes(sentences) if chosen is None else chosen
        return [replace(s, mentions=tuple(r for m in s.mentions if (r := self._retyped(m, chosen)) is not None))
                for s in sentences]

    def name_classes(self, sentences: Sequence[Sentence]) -> dict[str, str]:
        """Each name's class, where the classifier is sure enough; names it is unsure of are absent."""
        summed: dict[str, np.ndarray] = {}
        counts: dict[str, int] = defaultdict(int)
        for sentence in sentences:
            names = [m for m in sentence.mentions if (m.type in NAME_TYPES or m.type == UNTYPED) and not m.refers_to]
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
    def _retyped(mention: Mention, chosen: dict[str, str]) -> Mention | None:
        label = chosen.get(normalise_name(mention.text))
        if mention.type == UNTYPED:
            return None if label is None else replace(mention, type=RETYPED_AS[label])
        if mention.type not in NAME_TYPES or mention.refers_to:
            return mention
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
