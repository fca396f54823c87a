"""The pipeline and store flags shared by ingest, query, stats and export, declared once."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from kgbuild.cli._common import user_errors
from kgbuild.config import PipelineConfig, load_pipeline

PipelineOpt = Annotated[
    Path | None, typer.Option("--pipeline", "-p", help="pipeline YAML (default: pipelines/default.yaml)")
]

DeviceOpt = Annotated[str | None, typer.Option(
    "--device", help="where the model runs: auto (CUDA when available), cpu, cuda or cuda:N (overrides the pipeline)")]

STORE_OPTIONS: dict[str, Any] = {
    "pipeline": PipelineOpt,
    "store": Annotated[str | None, typer.Option("--store", help="embedded or neo4j (overrides the pipeline)")],
    "store_path": Annotated[
        str | None, typer.Option("--store-path", help="embedded graph location (overrides the pipeline)")],
    "neo4j_uri": Annotated[str | None, typer.Option("--neo4j-uri", help="Bolt URI; env NEO4J_URI also works")],
    "neo4j_user": Annotated[
        str | None, typer.Option("--neo4j-user", help="user; the password comes from env NEO4J_PASSWORD")],
    "neo4j_database": Annotated[str | None, typer.Option("--neo4j-database", help="database name")],
}


def load_config(pipeline: Path | None, **overrides: Any) -> PipelineConfig:
    with user_errors():
        return load_pipeline(pipeline).with_overrides(**overrides)


def with_store_options(command: Callable[..., None]) -> Callable[..., None]:
    """Give a command the shared pipeline/store flags and hand it the resolved ``config``.

    Typer reads a command's signature, so the flags are appended to it here once instead of
    being repeated in every command.
    """
    signature = inspect.signature(command)
    kept = [p for p in signature.parameters.values() if p.name != "config"]
    extra = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=annotation)
             for name, annotation in STORE_OPTIONS.items()]

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        flags = {name: kwargs.pop(name, None) for name in STORE_OPTIONS}
        command(*args, config=load_config(**flags), **kwargs)

    hints = {k: v for k, v in typing.get_type_hints(command, include_extras=True).items() if k != "config"}
    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p.replace(annotation=hints.get(p.name, p.annotation)) for p in kept] + extra
    )
    wrapper.__annotations__ = {**hints, **STORE_OPTIONS}
    return wrapper
