"""The evaluation workflow: benchmark a pipeline's generator with the standard metric for the dataset.

Three modes make the paper's ablation:

* ``zero-shot``: the base model, no adapter, no retrieved examples;
* ``fine-tuned``: the pipeline's adapter, no retrieved examples (k = 0);
* ``rag-fine-tuned``: the adapter with k retrieved examples, as the pipeline is configured.

The shipped adapters were trained with retrieved examples in the prompt, so ``fine-tuned``
measures the same weights without retrieval; it is not an adapter trained without RAG.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgbuild.config import PipelineConfig
from kgbuild.datasets.registry import check_dataset_schema, load_dataset
from kgbuild.datasets.splits import load_training_data
from kgbuild.errors import ConfigError, DatasetError
from kgbuild.evaluation.metrics import expected_calibration_error, standard_metrics
from kgbuild.evaluation.report import headline, summary_table, write_report
from kgbuild.relations.extractor import RelationExtractor
from kgbuild.types import CandidatePair

MODES = ("zero-shot", "fine-tuned", "rag-fine-tuned")

ProgressHook = Callable[[str, int, int, float], None]


@dataclass
class ModeResult:
    mode: str
    metrics: dict[str, Any]
    predictions: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def examples_per_second(self) -> float:
        return len(self.predictions) / self.seconds if self.seconds else 0.0


@dataclass
class EvaluationReport:
    dataset: str
    results: list[ModeResult]
    headline: str
    summary_table: Any = None

    @property
    def main(self) -> ModeResult:
        """The result the headline speaks of: rag-fine-tuned when it ran, else the last mode."""
        return next((r for r in self.results if r.mode == "rag-fine-tuned"), self.results[-1])


def mode_config(config: PipelineConfig, mode: str) -> PipelineConfig:
    if mode not in MODES:
        raise ConfigError(f"unknown mode {mode!r}; choose from {', '.join(MODES)} or all")
    if mode == "rag-fine-tuned":
        return config
    generator = config.generator
    retriever = config.retriever.model_copy(update={"k": 0})
    if mode == "zero-shot":
        generator = generator.model_copy(update={"adapter": None})
    return config.model_copy(update={"retriever": retriever, "generator": generator})


def evaluate_examples(config: PipelineConfig, dataset: str, examples: Sequence[CandidatePair], mode: str,
                      on_progress: ProgressHook | None = None) -> ModeResult:
    """Label gold examples with the mode's extractor and score them with the dataset's standard metric."""
    check_dataset_schema(dataset, config.load_schema().name)  # before any model loads
    extractor = RelationExtractor.from_config(mode_config(config, mode).without_corrections())
    done = 0
    started = time.perf_counter()

    def advance(n: int) -> None:
        nonlocal done
        done += n
        if on_progress is not None:
            elapsed = time.perf_counter() - started
            on_progress(mode, done, len(examples), done / elapsed if elapsed else 0.0)

    labelled = extractor.label(list(examples), on_batch=advance)
    seconds = time.perf_counter() - started
    gold = [str(e.label) for e in examples]
    predicted = [item.label for item in labelled]
    metrics = standard_metrics(dataset, gold, predicted, extractor.schema)
    metrics["mode"] = mode
    # the confidence of the answer given: a pair under the threshold answers no_relation with its probability
    given = [item.scores.get(item.label, item.confidence) for item in labelled]
    metrics["ece"] = expected_calibration_error(given, [g == p for g, p in zip(gold, predicted, strict=True)])
    metrics["mean_confidence"] = sum(given) / len(given) if given else 0.0
    metrics["examples"] = len(examples)
    metrics["examples_per_second"] = round(len(examples) / seconds, 3) if seconds else 0.0
    predictions = [
        {"id": e.id, "gold": g, "predicted": p.label, "confidence": round(p.confidence, 6)}
        for e, g, p in zip(examples, gold, labelled, strict=True)
    ]
    return ModeResult(mode=mode, metrics=metrics, predictions=predictions, seconds=seconds)


def run_evaluation(config: PipelineConfig, dataset: str, data: Path, split: str, modes: Sequence[str], *,
                   limit: int | None = None, out: Path | None = None,
                   on_progress: ProgressHook | None = None) -> EvaluationReport:
    examples = load_dataset(dataset, data, split)
    if limit is not None:
        examples = examples[:limit]
    if not examples:
        raise DatasetError(f"no examples in split '{split}' of {data}")
    return evaluate_modes(config, dataset, examples, modes, out=out, on_progress=on_progress)


def evaluate_modes(config: PipelineConfig, dataset: str, examples: Sequence[CandidatePair], modes: Sequence[str], *,
                   out: Path | None = None, on_progress: ProgressHook | None = None) -> EvaluationReport:
    """Each mode on the same examples; the headline is rag-fine-tuned's when it ran."""
    if not examples:
        raise DatasetError("no examples to evaluate")
    results = [evaluate_examples(config, dataset, examples, mode, on_progress) for mode in modes]
    report = EvaluationReport(dataset=dataset, results=results, headline="",
                              summary_table=summary_table(dataset, [r.metrics for r in results]))
    report.headline = headline(dataset, report.main.metrics)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        write_report(out, dataset, [r.metrics for r in results])
        for result in results:
            with (out / f"predictions-{result.mode}.jsonl").open("w", encoding="utf-8") as handle:
                for row in result.predictions:
                    handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    return report


def evaluate_pipeline(config: PipelineConfig, *, mode: str = "rag-fine-tuned", dataset: str | None = None,
                      data: Path | None = None, split: str = "test", pipeline_dev: bool = False,
                      limit: int | None = None, out: Path | None = None,
                      on_progress: ProgressHook | None = None) -> EvaluationReport:
    """What ``kgbuild eval`` asks for: a benchmark file, or the pipeline's own fixed dev split.

    ``mode`` is one of :data:`MODES` or ``all``; the dataset defaults to the training section's."""
    modes = list(MODES) if mode == "all" else [mode]
    for name in modes:
        mode_config(config, name)  # refuses an unknown mode before anything loads
    training = config.training
    if training is None and (pipeline_dev or dataset is None):
        raise ConfigError(f"{config.source or 'pipeline'}: has no 'training' section; pass --dataset and --data")
    dataset = dataset or (training.dataset if training else "")
    if pipeline_dev:
        assert training is not None
        if dataset != training.dataset:
            raise ConfigError(f"--pipeline-dev evaluates the pipeline's dataset '{training.dataset}', not '{dataset}'")
        dev = load_training_data(config).dev  # the same dev split whatever negatives training keeps
        return evaluate_modes(config, dataset, dev[:limit] if limit is not None else dev, modes, out=out,
                              on_progress=on_progress)
    if data is None:
        raise ConfigError("--data is required (or --pipeline-dev for the pipeline's own dev split)")
    return run_evaluation(config, dataset, data, split, modes, limit=limit, out=out, on_progress=on_progress)
