"""``kgbuild train``: LoRA-fine-tune the RAG generator from a pipeline's training section; ``kgbuild train-types``:
the name-type classifier."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import TextColumn

from kgbuild.cli._common import app, configure_logging, console, progress_bar, user_errors
from kgbuild.cli._options import DeviceOpt, PipelineOpt, load_config
from kgbuild.entities.context_type_training import FineTuning
from kgbuild.training_config import data_root
from kgbuild.workflows.train import run_training
from kgbuild.workflows.train_context_types import train_context_types


@app.command()
def train(
    max_steps: Annotated[int | None, typer.Option("--max-steps", help="stop after this many optimiser steps")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="train on at most this many examples")] = None,
    no_eval: Annotated[bool, typer.Option("--no-eval", help="skip the dev evaluation at the end")] = False,
    examples: Annotated[Path | None, typer.Option(
        "--examples", help="your own labelled pairs (JSONL, see the README) instead of the pipeline's training "
                           "data, taught to the pipeline's adapter; the pipeline's schema names the labels")] = None,
    from_scratch: Annotated[bool, typer.Option(
        "--from-scratch", help="with --examples: a new adapter instead of continuing the pipeline's")] = False,
    pipeline: PipelineOpt = None,
    device: DeviceOpt = None,
) -> None:
    """LoRA-fine-tune the RAG generator; resumes from the last checkpoint after an interruption."""
    configure_logging()
    config = load_config(pipeline, device=device)
    with user_errors(), progress_bar(TextColumn("loss {task.fields[loss]}")) as bar:
        task = bar.add_task("train", total=None, loss="-")

        def on_step(step: int, total: int, loss: float) -> None:
            bar.update(task, completed=step, total=total, loss=f"{loss:.4f}")

        result = run_training(config, max_steps=max_steps, limit=limit, evaluate_dev=not no_eval, on_step=on_step,
                              examples_file=examples, from_scratch=from_scratch)
    console.print(f"artefact written to {result.output}")
    if result.headline:
        console.print(result.headline)


@app.command("train-types")
def train_types(
    data: Annotated[Path | None, typer.Option(
        "--data", help="the folder holding conll04/ and re-docred/ as published (default: $KGBUILD_DATA)")] = None,
    out: Annotated[Path, typer.Option("--out", help="where the classifier and its card go")] = Path(
        "runs/context-types"),
    epochs: Annotated[int, typer.Option("--epochs", min=1, help="passes over the typed names")] = FineTuning.epochs,
    pipeline: PipelineOpt = None,
) -> None:
    """Train the name-type classifier that `entities.context_types` names; its threshold is chosen against the
    pipeline's spaCy model."""
    configure_logging()
    config = load_config(pipeline)
    with user_errors(), progress_bar() as bar:
        task = bar.add_task("fine-tune the type classifier", total=None)
        result = train_context_types(config, data if data is not None else data_root(), out,
                                     on_progress=lambda done, total: bar.update(task, completed=done, total=total),
                                     recipe=FineTuning(epochs=epochs))
    console.print(f"classifier written to {result.path}")
    console.print(result.headline)
