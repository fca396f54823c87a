"""``kgbuild eval``: a pipeline's generator on a benchmark, with the dataset's standard metric."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import TextColumn

from kgbuild.cli._common import app, configure_logging, console, progress_bar, user_errors
from kgbuild.cli._options import load_config
from kgbuild.evaluation.report import per_relation_table
from kgbuild.workflows.evaluate import evaluate_pipeline


@app.command(name="eval")
def evaluate(
    pipeline: Annotated[Path, typer.Option("--pipeline", "-p", help="pipeline YAML (its generator is evaluated)")],
    dataset: Annotated[str | None, typer.Option(
        "--dataset", help="semeval, tacred, tacrev, retacred, conll04, redocred (default: the pipeline's)")] = None,
    data: Annotated[Path | None, typer.Option("--data", help="dataset file or folder in its original layout")] = None,
    split: Annotated[str, typer.Option("--split", help="split to evaluate")] = "test",
    pipeline_dev: Annotated[bool, typer.Option(
        "--pipeline-dev", help="evaluate on the fixed, seeded dev split of the pipeline's training section")] = False,
    limit: Annotated[int | None, typer.Option("--limit", help="evaluate at most this many examples")] = None,
    mode: Annotated[str, typer.Option("--mode", help="zero-shot, fine-tuned, rag-fine-tuned, all")] = "rag-fine-tuned",
    out: Annotated[Path | None, typer.Option("--out", help="folder for report.json/.md and plots")] = None,
) -> None:
    """Evaluate on a benchmark with the standard metric; the last line printed is the headline."""
    configure_logging()
    config = load_config(pipeline)
    with user_errors(), progress_bar(TextColumn("{task.fields[rate]}")) as bar:
        tasks: dict[str, Any] = {}

        def on_progress(name: str, done: int, total: int, rate: float) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total, rate="")
            bar.update(tasks[name], completed=done, rate=f"{rate:.2f} ex/s")

        report = evaluate_pipeline(config, mode=mode, dataset=dataset, data=data, split=split,
                                   pipeline_dev=pipeline_dev, limit=limit, out=out, on_progress=on_progress)
    console.print(per_relation_table(report.main.metrics))
    console.print(report.summary_table)
    if out is not None:
        console.print(f"report written to {out}", soft_wrap=True)
    console.print(report.headline, highlight=False)
