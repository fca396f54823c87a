"""``kgbuild eval``: a pipeline's generator on a benchmark, with the dataset's standard metric."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import TextColumn
from rich.table import Table

from kgbuild.cli._common import app, configure_logging, console, plain, progress_bar, user_errors
from kgbuild.cli._options import DeviceOpt, PipelineOpt, load_config
from kgbuild.config import PipelineConfig
from kgbuild.errors import ConfigError
from kgbuild.evaluation.report import per_relation_table
from kgbuild.workflows.evaluate import evaluate_pipeline
from kgbuild.workflows.evaluate_docs import DOCS_DATASET, evaluate_documents
from kgbuild.workflows.evaluate_merges import ALIASES_DATASET, evaluate_merges


@app.command(name="eval")
def evaluate(
    dataset: Annotated[str | None, typer.Option(
        "--dataset", help="semeval, tacred, tacrev, retacred, conll04, redocred (default: the pipeline's); docs: "
                          "whole documents against a gold file (examples/eval); aliases: entity merges against "
                          "the same file's coreferent names")] = None,
    data: Annotated[Path | None, typer.Option(
        "--data", help="dataset file or folder in its original layout; for docs, gold.yaml or its folder")] = None,
    split: Annotated[str, typer.Option("--split", help="split to evaluate")] = "test",
    pipeline_dev: Annotated[bool, typer.Option(
        "--pipeline-dev", help="evaluate on the fixed, seeded dev split of the pipeline's training section")] = False,
    limit: Annotated[int | None, typer.Option("--limit", help="evaluate at most this many examples")] = None,
    mode: Annotated[str, typer.Option("--mode", help="zero-shot, fine-tuned, rag-fine-tuned, all")] = "rag-fine-tuned",
    out: Annotated[Path | None, typer.Option("--out", help="folder for report.json/.md and plots")] = None,
    pipeline: PipelineOpt = None,
    device: DeviceOpt = None,
) -> None:
    """Evaluate on a benchmark with the standard metric; the last line printed is the headline."""
    configure_logging()
    config = load_config(pipeline, device=device)
    if dataset in (DOCS_DATASET, ALIASES_DATASET):
        evaluate_docs(config, data, out) if dataset == DOCS_DATASET else evaluate_aliases(config, data, out)
        return
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
    console.print(report.headline, highlight=False, soft_wrap=True)


def evaluate_docs(config: PipelineConfig, data: Path | None, out: Path | None) -> None:
    """The whole ingest path against a gold file: triple P/R/F1 and which stage each error comes from."""
    with user_errors():
        if data is None:
            raise ConfigError("--dataset docs needs --data: a gold.yaml file or the folder holding it")
        with console.status("reading, spaCy and labelling the gold documents"):
            report = evaluate_documents(config, data, out)
    table = Table("relation", "P", "R", "F1", "support", title="docs: per relation")
    for label, v in report.metrics["per_relation"].items():
        table.add_row(label, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"]))
    console.print(table)
    lost = Table("first stage that lost it", "missed gold triples", title="docs: missed triples by stage")
    for stage, count in report.metrics["missed_by_stage"].items():
        lost.add_row(stage, str(count))
    console.print(lost)
    stages, m = report.metrics["errors_by_stage"], report.metrics
    console.print(f"errors: {stages['entities']} from entities, {stages['labelling']} from labelling; "
                  f"{m['candidate_pairs']} candidate pairs ({m['pairs_per_document']:.1f} per document), "
                  f"{m['seconds_per_document']:.2f} s per document (spaCy and labelling)", soft_wrap=True)
    console.print(f"edges at confidence >= 0.8: precision {m['confident_precision']:.3f} ({m['confident_edges']}); "
                  f"below: {m['other_precision']:.3f} ({m['other_edges']}); edge ECE (10 bins) {m['edge_ece']:.3f}",
                  soft_wrap=True, highlight=False)
    if out is not None:
        console.print(f"report written to {out}", soft_wrap=True)
    console.print(report.headline, highlight=False, soft_wrap=True)


def evaluate_aliases(config: PipelineConfig, data: Path | None, out: Path | None) -> None:
    """Entity resolution against the gold file's aliases: pairwise merge precision and recall."""
    with user_errors():
        if data is None:
            raise ConfigError("--dataset aliases needs --data: a gold.yaml file or the folder holding it")
        with console.status("reading, spaCy and resolving the gold documents"):
            report = evaluate_merges(config, data)
    for title, pairs in (("wrong merges", report.metrics["wrong"]), ("missed merges", report.metrics["missed"])):
        table = Table("document", "name", "name", title=title)
        for pair in pairs:
            table.add_row(pair["a_document"], plain(pair["a"]), plain(pair["b"]))
        console.print(table)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "aliases.json").write_text(json.dumps(report.metrics, indent=2, ensure_ascii=False), encoding="utf-8")
    console.print(report.headline, highlight=False, soft_wrap=True)
