"""The ``kgbuild`` command line: ingest, query, stats, export (train and eval live in their modules)."""

from __future__ import annotations

import functools
import inspect
import json
import logging
import os
import sys
import typing
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kgbuild.config import ConfigError, PipelineConfig, load_pipeline
from kgbuild.graph import GraphStore, StoreError, open_store
from kgbuild.relations.schema import RelationSchema

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
console = Console()
err = Console(stderr=True)

PipelineOpt = Annotated[
    Path | None, typer.Option("--pipeline", "-p", help="pipeline YAML (default: pipelines/default.yaml)")
]
StorePathOpt = Annotated[
    str | None, typer.Option("--store-path", help="embedded graph location (overrides the pipeline)")
]
StoreOpt = Annotated[str | None, typer.Option("--store", help="embedded or neo4j (overrides the pipeline)")]
UriOpt = Annotated[str | None, typer.Option("--neo4j-uri", help="Bolt URI; env NEO4J_URI also works")]
UserOpt = Annotated[str | None, typer.Option("--neo4j-user", help="user; the password comes from env NEO4J_PASSWORD")]
DbOpt = Annotated[str | None, typer.Option("--neo4j-database", help="database name")]


_STORE_OPTIONS: dict[str, Any] = {
    "pipeline": PipelineOpt,
    "store": StoreOpt,
    "store_path": StorePathOpt,
    "neo4j_uri": UriOpt,
    "neo4j_user": UserOpt,
    "neo4j_database": DbOpt,
}


def with_store_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command the shared pipeline/store flags and hand it the resolved ``config``.

    Typer reads a command's signature, so the flags are appended to it here once instead of
    being repeated in every command.
    """
    signature = inspect.signature(command)
    kept = [p for p in signature.parameters.values() if p.name != "config"]
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
             for name, annotation in _STORE_OPTIONS.items()]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        flags = {name: kwargs.pop(name, None) for name in _STORE_OPTIONS}
        command(*args, config=load_config(**flags), **kwargs)

    hints = {k: v for k, v in typing.get_type_hints(command, include_extras=True).items() if k != "config"}
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p.replace(annotation=hints.get(p.name, p.annotation)) for p in kept] + extra
    )
    wrapper.__annotations__ = {**hints, **_STORE_OPTIONS}
    return wrapper


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one error line (never wrapped, never read as markup) and return the exit to raise."""
    err.print(f"[bold red]error:[/] {escape(' '.join(message.split()))}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def _configure_logging() -> None:
    level = os.environ.get("KGBUILD_LOG", "WARNING").upper()
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers is a hard dependency
        pass


def load_config(pipeline: Path | None, store: str | None = None, store_path: str | None = None,
                neo4j_uri: str | None = None, neo4j_user: str | None = None,
                neo4j_database: str | None = None) -> PipelineConfig:
    try:
        config = load_pipeline(pipeline)
    except ConfigError as exc:
        raise fail(str(exc)) from exc
    store_cfg = config.store
    if store is not None:
        if store not in ("embedded", "neo4j"):
            raise fail(f"--store must be 'embedded' or 'neo4j', not {store!r}")
        store_cfg = store_cfg.model_copy(update={"kind": store})
    if store_path is not None:
        store_cfg = store_cfg.model_copy(update={"path": store_path})
    flags = {"uri": neo4j_uri, "user": neo4j_user, "database": neo4j_database}
    # flags win over the environment, which wins over the file
    neo = store_cfg.neo4j.resolved().model_copy(update={k: v for k, v in flags.items() if v})
    return config.model_copy(update={"store": store_cfg.model_copy(update={"neo4j": neo})})


@contextmanager
def opened_store(config: PipelineConfig, read_only: bool) -> Iterator[GraphStore]:
    try:
        store = open_store(config.store, read_only=read_only)
    except StoreError as exc:
        raise fail(str(exc)) from exc
    try:
        try:
            schema = RelationSchema.load(_schema_spec(config))
        except (FileNotFoundError, ValueError) as exc:
            raise fail(f"relation schema: {exc}") from exc
        store.ensure_schema(schema)
        yield store
    except StoreError as exc:
        raise fail(str(exc)) from exc
    finally:
        store.close()


def _schema_spec(config: PipelineConfig) -> str | Path:
    candidate = config.resolve_path(config.schema_)
    return candidate if candidate.suffix else config.schema_


@app.command()
@with_store_options
def ingest(
    folder: Annotated[Path, typer.Argument(help="folder (or single file) of documents")],
    *,
    config: PipelineConfig,
) -> None:
    """Read a folder, extract relations, and write them with provenance to the graph store."""
    from kgbuild.pipeline import Ingestor
    from kgbuild.pipeline import Progress as Hooks

    _configure_logging()
    if not folder.exists():
        raise fail(f"input folder not found: {folder}")
    with opened_store(config, read_only=False) as graph, Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=err, transient=False, disable=not err.is_terminal and "KGBUILD_PROGRESS" not in os.environ,
    ) as bar:
        files = bar.add_task("files", total=None)
        pairs = bar.add_task("pairs", total=0)
        hooks = Hooks(
            on_files=lambda n: bar.update(files, total=n),
            on_file_done=lambda _: bar.advance(files),
            on_pairs_total=lambda n: bar.update(pairs, total=(bar.tasks[pairs].total or 0) + n),
            on_pairs_done=lambda n: bar.advance(pairs, n),
        )
        try:
            summary = Ingestor(config).ingest(folder, graph, hooks)
        except Exception as exc:
            if isinstance(exc, StoreError | typer.Exit):
                raise
            from kgbuild.relations.models import ModelLoadError

            if isinstance(exc, ModelLoadError | OSError | ValueError | RuntimeError):
                raise fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from exc
            raise
    _print_summary(summary, config)


def _print_summary(summary: Any, config: PipelineConfig) -> None:
    where = config.store.path if config.store.kind == "embedded" else config.store.neo4j.uri
    table = Table(title=f"kgbuild ingest → {config.store.kind} ({where})", show_header=False)
    table.add_row("files found", str(summary.files))
    table.add_row("documents read", str(summary.read))
    table.add_row("unchanged (skipped)", str(summary.unchanged))
    table.add_row("replaced (changed since last run)", str(summary.replaced))
    table.add_row("skipped", str(len(summary.skipped)))
    table.add_row("failed", str(len(summary.failed)))
    table.add_row("sentences", str(summary.sentences))
    table.add_row("entity mentions", str(summary.entities))
    table.add_row("candidate pairs", str(summary.pairs))
    table.add_row("triples written", str(summary.triples))
    table.add_row("pairs/s (labelling)", f"{summary.pairs_per_second:.2f}")
    for stage, seconds in summary.stage_seconds.items():
        table.add_row(f"time: {stage}", f"{seconds:.2f} s")
    console.print(table)
    for problem in summary.skipped:
        console.print(f"[yellow]skipped[/] {escape(problem.path)}: {escape(problem.reason)}", highlight=False,
                      soft_wrap=True)
    for problem in summary.failed:
        console.print(f"[red]failed[/] {escape(problem.path)}: {escape(problem.reason)}", highlight=False,
                      soft_wrap=True)


def _parse_params(params: list[str]) -> dict[str, Any]:
    parsed: dict[str, Any] = {}
    for item in params:
        if "=" not in item:
            raise fail(f"--param takes key=value, got {item!r}")
        key, raw = item.split("=", 1)
        try:
            parsed[key] = json.loads(raw)  # numbers, booleans, lists; anything else stays a string
        except json.JSONDecodeError:
            parsed[key] = raw
    return parsed


@app.command()
@with_store_options
def query(
    cypher: Annotated[str, typer.Argument(help="a Cypher query; pass values with --param, never inline")],
    param: Annotated[list[str] | None, typer.Option("--param", help="query parameter key=value (JSON value)")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print JSON lines instead of a table")] = False,
    write: Annotated[bool, typer.Option("--write", help="allow clauses that modify the graph")] = False,
    *,
    config: PipelineConfig,
) -> None:
    """Run a Cypher query against the graph (read-only unless --write)."""
    with opened_store(config, read_only=not write) as graph:
        result = graph.query(cypher, _parse_params(param or []), write=write)
    if as_json:
        for row in result.rows:
            console.print_json(json.dumps(dict(zip(result.columns, row, strict=True)), ensure_ascii=False, default=str))
        return
    table = Table(*result.columns)
    for row in result.rows:
        table.add_row(*[_cell(v) for v in row])
    console.print(table)
    console.print(f"{len(result.rows)} row(s)")


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        text = json.dumps(value, ensure_ascii=False, default=str)
        return text if len(text) <= 200 else text[:197] + "..."
    return str(value)


@app.command()
@with_store_options
def stats(
    *,
    config: PipelineConfig,
) -> None:
    """Counts by node label and relationship type."""
    with opened_store(config, read_only=True) as graph:
        counts = graph.stats()
    table = Table("kind", "name", "count")
    for label, count in sorted(counts.nodes.items()):
        table.add_row("node", label, str(count))
    for rel_type, count in sorted(counts.relationships.items()):
        table.add_row("relationship", rel_type, str(count))
    console.print(table)


@app.command()
@with_store_options
def export(
    out: Annotated[Path, typer.Argument(help="output file")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="graphml or jsonl")] = "jsonl",
    *,
    config: PipelineConfig,
) -> None:
    """Export every triple with its provenance: GraphML (networkx) or JSONL."""
    from kgbuild.graph.export import export_graphml, export_jsonl

    if fmt not in ("graphml", "jsonl"):
        raise fail(f"--format must be graphml or jsonl, not {fmt!r}")
    with opened_store(config, read_only=True) as graph:
        count = export_jsonl(graph, out) if fmt == "jsonl" else export_graphml(graph, out)
    unit = "triples" if fmt == "jsonl" else "relationships"
    console.print(f"wrote {count} {unit} to {out}")


@app.command()
def train(
    pipeline: Annotated[Path, typer.Option("--pipeline", "-p", help="pipeline YAML with a 'training' section")],
    max_steps: Annotated[int | None, typer.Option("--max-steps", help="stop after this many optimiser steps")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="train on at most this many examples")] = None,
    no_eval: Annotated[bool, typer.Option("--no-eval", help="skip the dev evaluation at the end")] = False,
) -> None:
    """LoRA-fine-tune the RAG generator; resumes from the last checkpoint after an interruption."""
    from kgbuild.relations.models import ModelLoadError
    from kgbuild.train import run_training

    _configure_logging()
    config = load_config(pipeline)
    with Progress(TextColumn("[bold]train"), BarColumn(), MofNCompleteColumn(), TextColumn("loss {task.fields[loss]}"),
                  TimeElapsedColumn(), console=err) as bar:
        task = bar.add_task("train", total=None, loss="-")

        def on_step(step: int, total: int, loss: float) -> None:
            bar.update(task, completed=step, total=total, loss=f"{loss:.4f}")

        try:
            out = run_training(config, max_steps=max_steps, limit=limit, evaluate_dev=not no_eval, on_step=on_step)
        except (ValueError, ModelLoadError, FileNotFoundError) as exc:  # dataset, bank, prompt, config errors
            raise fail(str(exc)) from exc
    console.print(f"artefact written to {out}")
    metrics_file = out / "dev_metrics.json"
    if metrics_file.exists():
        console.print(json.loads(metrics_file.read_text(encoding="utf-8")).get("headline", ""))


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
    from kgbuild.datasets.registry import DatasetError
    from kgbuild.evaluate import MODES, evaluate_modes, run_evaluation
    from kgbuild.relations.models import ModelLoadError
    from kgbuild.train import load_training_data

    _configure_logging()
    modes = list(MODES) if mode == "all" else [mode]
    if any(m not in MODES for m in modes):
        raise fail(f"--mode must be one of {', '.join(MODES)} or all, not {mode!r}")
    config = load_config(pipeline)
    training = config.training
    if training is None and (pipeline_dev or dataset is None):
        raise fail(f"{pipeline}: has no 'training' section; pass --dataset and --data")
    dataset = dataset or (training.dataset if training else "")
    if pipeline_dev and training is not None and dataset != training.dataset:
        raise fail(f"--pipeline-dev evaluates the pipeline's dataset '{training.dataset}', not '{dataset}'")
    if not pipeline_dev and data is None:
        raise fail("--data is required (or --pipeline-dev for the pipeline's own dev split)")
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), console=err) as bar:
        tasks: dict[str, Any] = {}

        def on_progress(name: str, done: int, total: int, rate: float) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total, rate="")
            bar.update(tasks[name], completed=done, rate=f"{rate:.2f} ex/s")

        try:
            if pipeline_dev:
                dev = load_training_data(config).dev  # the dev split is the same whatever negatives training keeps
                report = evaluate_modes(config, dataset, dev[:limit] if limit is not None else dev, modes, out=out,
                                        on_progress=on_progress)
            else:
                assert data is not None
                report = run_evaluation(config, dataset, data, split, modes, limit=limit, out=out,
                                        on_progress=on_progress)
        except (DatasetError, ModelLoadError, FileNotFoundError, ValueError) as exc:
            raise fail(str(exc)) from exc
    from kgbuild.evaluation.report import per_relation_table

    console.print(per_relation_table(report.main.metrics))
    console.print(report.summary_table)
    if out is not None:
        console.print(f"report written to {out}", soft_wrap=True)
    console.print(report.headline, highlight=False)


def main() -> None:  # pragma: no cover - console-script shim
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
