"""``kgbuild ingest``: a folder of documents into the graph store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import ProgressColumn, Task
from rich.table import Table
from rich.text import Text

from kgbuild.cli._common import app, configure_logging, console, one_line, plain, progress_bar, user_errors
from kgbuild.cli._options import DeviceOpt, with_store_options
from kgbuild.config import PipelineConfig
from kgbuild.graph.neo4j_values import safe_uri
from kgbuild.workflows.ingest import IngestHooks, IngestSummary, ingest_folder

EXIT_FILES_FAILED = 3


@app.command()
@with_store_options
def ingest(
    folder: Annotated[Path, typer.Argument(help="folder (or single file) of documents")],
    keep_missing: Annotated[bool, typer.Option(
        "--keep-missing", help="keep the evidence of files that are no longer in the folder")] = False,
    follow_links: Annotated[bool, typer.Option(
        "--follow-links", help="read symbolic links that lead out of the folder")] = False,
    report: Annotated[Path | None, typer.Option(
        "--report", help="write a JSON run report: counts, timings, every skipped or failed file")] = None,
    device: DeviceOpt = None,
    executor: Annotated[str | None, typer.Option(
        "--executor", help="local (this process, the default) or ray (Ray Data workers; pip install "
                           "'kgbuild\\[ray]')")] = None,
    ray_address: Annotated[str | None, typer.Option(
        "--ray-address", help="Ray cluster to join, e.g. auto; default: start a local Ray for the run")] = None,
    workers: Annotated[int | None, typer.Option(
        "--workers", help="Ray labelling actors, each loading the model once (default 2)")] = None,
    *,
    config: PipelineConfig,
) -> None:
    """Make the graph reflect a folder: extract relations and write them with provenance.

    Exit status: 0 when every file was read or skipped for a reason, 3 when some files failed
    (the others are written), 1 on an error that stops the run."""
    configure_logging()
    with user_errors():
        config = config.with_overrides(device=device, executor=executor, ray_address=ray_address, workers=workers)
    if follow_links:
        config = config.model_copy(update={"reader": config.reader.model_copy(update={"follow_links": True})})
    with user_errors(), progress_bar(DocumentRate(), always=False) as bar:
        files = bar.add_task("files", total=None)
        pairs = bar.add_task("pairs", total=0)
        hooks = IngestHooks(
            on_files=lambda n: bar.update(files, total=n),
            on_file_done=lambda _: bar.advance(files),
            on_pairs_total=lambda n: bar.update(pairs, total=(bar.tasks[pairs].total or 0) + n),
            on_pairs_done=lambda n: bar.advance(pairs, n),
        )
        summary = ingest_folder(config, folder, hooks, keep_missing=keep_missing)
    print_summary(summary, config)
    if report is not None:
        with user_errors():
            report.write_text(json.dumps(summary.to_json(), indent=2, ensure_ascii=False), encoding="utf-8")
    if summary.failed:
        raise typer.Exit(EXIT_FILES_FAILED)


class DocumentRate(ProgressColumn):
    """Documents per second on the files row (the pairs row has none: pairs arrive in bursts)."""

    def render(self, task: Task) -> Text:
        if task.description != "files" or not task.speed:
            return Text("")
        return Text(f"{task.speed:.2f} docs/s", style="progress.data.speed")


def print_summary(summary: IngestSummary, config: PipelineConfig) -> None:
    where = config.store.path if config.store.kind == "embedded" else safe_uri(config.store.neo4j.uri)
    table = Table(title=plain(f"kgbuild ingest → {config.store.kind} ({where})"), show_header=False)
    for name, value in [
        ("files found", summary.files), ("documents read", summary.read), ("unchanged (skipped)", summary.unchanged),
        ("replaced (changed since last run)", summary.replaced), ("renamed (moved, evidence kept)", summary.renamed),
        ("duplicates (same content as another file)", summary.duplicates),
        ("removed (no longer in the folder)", summary.removed), ("skipped", len(summary.skipped)),
        ("failed", len(summary.failed)), ("sentences", summary.sentences), ("entity mentions", summary.entities),
        ("candidate pairs", summary.pairs), ("triples written", summary.triples),
        ("entities merged across documents", summary.merged),
    ]:
        table.add_row(name, str(value))
    table.add_row("pairs/s (labelling)", f"{summary.pairs_per_second:.2f}")
    table.add_row("number format", summary.number_format)
    for stage, seconds in summary.stage_seconds.items():
        table.add_row(f"time: {stage}", f"{seconds:.2f} s")
    console.print(table)
    for colour, kind, problems in (("yellow", "skipped", summary.skipped), ("red", "failed", summary.failed)):
        for problem in problems:
            line = Text.assemble((kind, colour), " ", one_line(f"{problem.path}: {problem.reason}"))
            console.print(line, highlight=False, soft_wrap=True)
