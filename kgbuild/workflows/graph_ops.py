"""Read the stored graph: user queries, counts and exports, each on a store opened with its schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from kgbuild.config import PipelineConfig
from kgbuild.graph import GraphStore, open_store
from kgbuild.graph.export import export_graphml, export_jsonl
from kgbuild.graph.store import GraphStats, QueryResult

ExportFormat = Literal["jsonl", "graphml"]


@contextmanager
def opened_store(config: PipelineConfig, read_only: bool) -> Iterator[GraphStore]:
    """The pipeline's store with its schema (a read-only store only learns it), closed afterwards."""
    schema = config.load_schema()  # a bad schema fails before any connection is made
    store = open_store(config.store, read_only=read_only)
    try:
        store.ensure_schema(schema)
        yield store
    finally:
        store.close()


def run_query(config: PipelineConfig, cypher: str, params: dict[str, Any], write: bool = False,
              timeout: float | None = None) -> QueryResult:
    """User Cypher with parameters; the store is opened read-only unless ``write``."""
    with opened_store(config, read_only=not write) as store:
        return store.query(cypher, params, write=write, timeout=timeout)


def graph_stats(config: PipelineConfig) -> GraphStats:
    with opened_store(config, read_only=True) as store:
        return store.stats()


def export_graph(config: PipelineConfig, out: Path, fmt: ExportFormat = "jsonl") -> int:
    """Triples written (JSONL) or relationships written (GraphML)."""
    with opened_store(config, read_only=True) as store:
        return export_jsonl(store, out) if fmt == "jsonl" else export_graphml(store, out)
