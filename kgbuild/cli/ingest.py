"""``kgbuild ingest``: a folder of documents into the graph store."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kgbuild.cli._common import app, configure_logging, console, progress_bar, user_errors
from kgbuild.cli._options import with_store_options
from kgbuild.config import PipelineConfig
from kgbuild.workflows.ingest import IngestHooks, IngestSummary, ingest_folder


@app.command()
@with_store_options
def ingest(
    folder: Annotated[Path, typer.Argument(help="folder (or single file) of documents")],
    *,
    config: PipelineConfig,
) -> None:
    """Read a folder, extract relations, and write them with provenance to the graph store."""
    configure_logging()
    with user_errors(), progress_bar(always=False) as bar:
        files = bar.add_task("files", total=None)
        pairs = bar.add_task("pairs", total=0)
        hooks = IngestHooks(
            on_files=lambda n: bar.update(files, total=n),
            on_file_done=lambda _: bar.advance(files),
            on_pairs_total=lambda n: bar.update(pairs, total=(bar.tasks[pairs].total or 0) + n),
            on_pairs_done=lambda n: bar.advance(pairs, n),
        )
        summary = ingest_folder(config, folder, hooks)
    print_summary(summary, config)


def print_summary(summary: IngestSummary, config: PipelineConfig) -> None:
    where = config.store.path if config.store.kind == "embedded" else config.store.neo4j.uri
    table = Table(title=f"kgbuild ingest → {config.store.kind} ({where})", show_header=False)
    for name, value in [
        ("files found", summary.files), ("documents read", summary.read), ("unchanged (skipped)", summary.unchanged),
        ("replaced (changed since last run)", summary.replaced), ("skipped", len(summary.skipped)),
        ("failed", len(summary.failed)), ("sentences", summary.sentences), ("entity mentions", summary.entities),
        ("candidate pairs", summary.pairs), ("triples written", summary.triples),
    ]:
        table.add_row(name, str(value))
    table.add_row("pairs/s (labelling)", f"{summary.pairs_per_second:.2f}")
    for stage, seconds in summary.stage_seconds.items():
        table.add_row(f"time: {stage}", f"{seconds:.2f} s")
    console.print(table)
    for colour, kind, problems in (("yellow", "skipped", summary.skipped), ("red", "failed", summary.failed)):
        for problem in problems:
            console.print(f"[{colour}]{kind}[/] {escape(problem.path)}: {escape(problem.reason)}", highlight=False,
                          soft_wrap=True)
