"""The training workflow: a pipeline file with a ``training`` section → one artefact folder.

The artefact holds everything needed to predict, in the ``save_pretrained`` spirit:
``adapter/`` (peft weights + tokenizer), ``schema.yaml``, ``prompt.yaml``, ``bank.jsonl`` (the
training split, which is also the retrieval bank) with its FAISS index, ``pipeline.yaml``
(the resolved configuration, pointing at the files beside it), ``train_log.jsonl``,
``dev_metrics.json`` and a model card ``README.md``.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from kgbuild.config import PipelineConfig, TrainingConfig
from kgbuild.datasets.registry import check_dataset_schema
from kgbuild.datasets.splits import TrainingData, load_training_data, training_section
from kgbuild.errors import TrainingError
from kgbuild.relations.device import describe, resolve_device
from kgbuild.relations.lora_trainer import LoRATrainer, TrainExample, TrainingTotals, training_totals
from kgbuild.relations.rag_prompter import RagPrompter
from kgbuild.relations.retrieval import read_bank, write_bank
from kgbuild.training_config import DATA_PREFIX
from kgbuild.workflows.epoch_selection import EpochSelector
from kgbuild.workflows.evaluate import evaluate_examples
from kgbuild.workflows.train_examples import announce_new_labels, chosen_threshold, examples_config

log = logging.getLogger(__name__)


@dataclass
class TrainingResult:
    output: Path  # the artefact folder
    steps: int
    dev_metrics: dict[str, Any] = field(default_factory=dict)  # empty when dev evaluation was skipped

    @property
    def headline(self) -> str:
        return str(self.dev_metrics.get("headline", ""))


@dataclass(frozen=True)
class Schedule:
    """Batch size, learning rate and step budget as actually used on the chosen device."""

    batch_size: int
    learning_rate: float
    max_steps: int | None


def schedule_for(training: TrainingConfig, device: torch.device, max_steps: int | None) -> Schedule:
    """On a GPU a bigger batch fills the card. The learning rate follows the square-root rule for Adam
    (lr x sqrt(new batch / old batch)), and a step budget shrinks so that it covers the same examples."""
    bigger = training.cuda_batch_size
    if device.type != "cuda" or bigger is None or bigger == training.batch_size:
        return Schedule(training.batch_size, training.learning_rate, max_steps)
    ratio = bigger / training.batch_size
    steps = None if max_steps is None else max(1, math.ceil(max_steps / ratio))
    return Schedule(bigger, training.learning_rate * math.sqrt(ratio), steps)


def run_training(config: PipelineConfig, *, max_steps: int | None = None, limit: int | None = None,
                 evaluate_dev: bool = True, on_step: Callable[[int, int, float], None] | None = None,
                 examples_file: Path | None = None, from_scratch: bool = False) -> TrainingResult:
    """``examples_file``: the user's own labelled pairs instead of the pipeline's training data, taught to the
    pipeline's adapter (unless ``from_scratch``), see :mod:`kgbuild.workflows.train_examples`."""
    config = examples_config(config, examples_file) if examples_file is not None else config
    init_adapter = config.adapter_spec() if examples_file is not None and not from_scratch else None
    training = training_section(config)
    schema = config.load_schema()
    check_dataset_schema(training.dataset, schema.name)
    out = config.resolve_path(training.output)
    out.mkdir(parents=True, exist_ok=True)
    data = load_training_data(config, limit if limit is not None else training.limit, schema.no_relation)
    if not data.train:
        raise TrainingError("the training split is empty")
    label_index = {label: i for i, label in enumerate(schema.all_labels)}
    unknown = {p.label for p in data.train if p.label not in label_index}
    if unknown:
        raise TrainingError(f"training labels not in schema '{schema.name}': {sorted(map(str, unknown))}")

    if examples_file is not None:
        announce_new_labels(init_adapter, schema, data.train)
    bank = out / "bank.jsonl"  # a continued adapter keeps the examples it was trained to retrieve
    kept = read_bank(bank_path) if init_adapter and (bank_path := config.bank_path()) is not None else []
    write_bank(bank, [*kept, *data.train])
    prompter = RagPrompter.from_config(config, schema, bank=bank)
    prompts = prompter.prompts(data.train, exclude_same_text=True)
    examples = [TrainExample(text, label_index[str(p.label)]) for text, p in zip(prompts, data.train, strict=True)]

    gen = config.generator
    device = resolve_device(gen.device)
    schedule = schedule_for(training, device, max_steps if max_steps is not None else training.max_steps)
    log.info("training on %s: batch %d, learning rate %.2e", describe(device), schedule.batch_size,
             schedule.learning_rate)
    trainer = LoRATrainer(  # float32 master weights; on a GPU the forward pass runs under bfloat16 autocast
        gen.model, gen.kind, schema.all_labels, prompter.static, lora_r=training.lora_r,
        lora_alpha=training.lora_alpha, lora_dropout=training.lora_dropout, target_modules=training.target_modules,
        learning_rate=schedule.learning_rate, max_prompt_tokens=gen.max_prompt_tokens, seed=training.seed,
        dtype="float32" if gen.dtype in ("auto", "int8") else gen.dtype, device=str(device), init_adapter=init_adapter,
    )
    schema.save(out / "schema.yaml")
    (out / "prompt.yaml").write_text(prompter.builder.template.to_yaml(), encoding="utf-8")
    artefact = artefact_pipeline(config, out)
    (out / "pipeline.yaml").write_text(artefact.dump_yaml(), encoding="utf-8")
    selector = None
    if training.select_epoch and evaluate_dev and data.dev:
        selector = EpochSelector(artefact, training.dataset, data.dev, out / "epochs")
    state = trainer.train(
        examples, batch_size=schedule.batch_size, grad_accumulation=training.grad_accumulation,
        epochs=training.epochs, max_steps=schedule.max_steps,
        seed=training.seed, checkpoints=out / "checkpoints", save_every=training.save_every,
        log_path=out / "train_log.jsonl", on_step=on_step,
        on_epoch_end=(lambda epoch: selector.evaluate(epoch, trainer)) if selector else None,
    )
    trainer.save(out / "adapter")
    totals = training_totals(out / "train_log.jsonl")  # all runs, also when this one resumed
    metrics: dict[str, Any] = {}
    if evaluate_dev and data.dev:
        del trainer  # free the training copy before loading the inference model
        artefact = artefact.model_copy(update={"source": str(out / "pipeline.yaml")})
        metrics = evaluate_examples(artefact, training.dataset, data.dev, mode="rag-fine-tuned").metrics
        if selector is not None:
            metrics, shipped_epoch = selector.ship_best(out, metrics)
            metrics["shipped_epoch"] = shipped_epoch  # None: the final adapter
        (out / "dev_metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True), encoding="utf-8")
    if examples_file is not None:  # the old adapter's threshold says nothing about the new one's confidences
        artefact = artefact.model_copy(update={"generator": artefact.generator.model_copy(
            update={"threshold": chosen_threshold(artefact, data.dev if evaluate_dev else [])})})
        (out / "pipeline.yaml").write_text(artefact.dump_yaml(), encoding="utf-8")
    write_model_card(out, config, data, totals, metrics, schedule, describe(device))
    shutil.rmtree(out / "checkpoints", ignore_errors=True)
    return TrainingResult(output=out, steps=state.step, dev_metrics=metrics)


def artefact_pipeline(config: PipelineConfig, out: Path) -> PipelineConfig:
    """The resolved pipeline, with paths pointing at files inside the artefact folder."""
    training = training_section(config)
    data_path = (training.data if training.data.startswith(DATA_PREFIX)  # wherever the user keeps the data
                 else os.path.relpath(config.resolve_path(training.data), out.resolve()))
    patterns = config.entities.patterns
    entities = config.entities.model_copy(update={
        "patterns": None if patterns is None else os.path.relpath(config.resolve_path(patterns), out.resolve())})
    return config.model_copy(update={
        "schema_": "schema.yaml",
        "prompt": "prompt.yaml",
        "entities": entities,
        "retriever": config.retriever.model_copy(update={"bank": "bank.jsonl"}),
        # runs anywhere; a new adapter's confidences are its own: `kgbuild calibrate` fits its temperature
        "generator": config.generator.model_copy(update={"adapter": "adapter", "device": "auto", "temperature": 1.0}),
        "training": training.model_copy(update={"data": data_path, "output": "."}),
        "source": str(out / "pipeline.yaml"),
    })


def write_model_card(out: Path, config: PipelineConfig, data: TrainingData, totals: TrainingTotals,
                     metrics: dict[str, Any], schedule: Schedule, hardware: str) -> None:
    training = training_section(config)
    epochs = totals.steps * schedule.batch_size * training.grad_accumulation / max(1, len(data.train))
    labels: dict[str, int] = {}
    for pair in data.train:
        labels[str(pair.label)] = labels.get(str(pair.label), 0) + 1
    headline = metrics.get("headline", "not evaluated")
    lines = [
        f"# {config.name}: RAG relation extractor (LoRA adapter)",
        "",
        f"- Base model: `{config.generator.model}` ({config.generator.kind}), LoRA r={training.lora_r}, "
        f"alpha={training.lora_alpha}, dropout={training.lora_dropout}",
        f"- Data: `{training.dataset}` from `{training.data}`; {len(data.train)} training examples, "
        f"{len(data.dev)} dev examples ({'dataset dev split' if training.dev_split else 'seeded split, seed '}"
        f"{'' if training.dev_split else training.split_seed})",
        f"- Retrieval: k={config.retriever.k} examples from the training bank with `{config.retriever.encoder}`",
        f"- Steps: {totals.steps} (batch {schedule.batch_size} x accumulation {training.grad_accumulation}), "
        f"{epochs:.2f} epochs, learning rate {schedule.learning_rate:.3g}, seed {training.seed}",
        f"- Training time: {totals.seconds / 60:.1f} min wall-clock for the training steps "
        f"({totals.seconds / epochs if epochs else 0.0:.0f} s per epoch, {totals.tokens_per_second:.0f} tokens/s), "
        f"on {hardware}, torch {torch.__version__}",
        f"- Dev result: {headline}",
        *_epoch_lines(out, metrics),
        "",
        "Reproduce with `kgbuild train --pipeline <the shipped pipeline file>`.",
        "",
        "## Training label counts",
        "",
        "| label | count |",
        "|---|---|",
        *[f"| {label} | {count} |" for label, count in sorted(labels.items())],
    ]
    (out / "README.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _epoch_lines(out: Path, metrics: dict[str, Any]) -> list[str]:
    """Which adapter was shipped when every epoch was scored on dev (``training.select_epoch``)."""
    path = out / "epochs.json"
    if not path.exists():
        return []
    epochs = json.loads(path.read_text(encoding="utf-8"))["epochs"]
    scores = ", ".join(f"epoch {e['epoch']}: {e['headline_value']:.3f}" for e in epochs)
    chosen = metrics.get("shipped_epoch")
    return [f"- Checkpoint chosen on dev: {'epoch ' + str(chosen) if chosen else 'the final step'} ({scores})"]
