"""Read the stored graph: user queries, counts and exports, each on a store opened with its schema."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kgbuild.config import PipelineConfig
from kgbuild.errors import InputError
from kgbuild.graph import GraphStore, open_store
from kgbuild.graph.export import atomic_output, export_graphml, export_jsonl
from kgbuild.graph.neo4j_import import ImportExport, export_neo4j_import
from kgbuild.graph.store import GraphStats, QueryResult
from kgbuild.graph.view import graph_data, render_view, store_facts
from kgbuild.types import Triple

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


def export_for_import(config: PipelineConfig, folder: Path, database: str = "neo4j") -> ImportExport:
    """The stored graph as ``neo4j-admin database import full`` input files, with ``import.sh``."""
    with opened_store(config, read_only=True) as store:
        return export_neo4j_import(store, config.load_schema(), folder, database)


def graph_stats(config: PipelineConfig) -> GraphStats:
    with opened_store(config, read_only=True) as store:
        return store.stats()


def export_graph(config: PipelineConfig, out: Path, fmt: ExportFormat = "jsonl") -> int:
    """Triples written (JSONL) or relationships written (GraphML)."""
    with opened_store(config, read_only=True) as store:
        return export_jsonl(store, out) if fmt == "jsonl" else export_graphml(store, out)


@dataclass(frozen=True)
class FactFilter:
    """Which stored facts to list: those from one file (its stored path, a path suffix or its file name),
    at or above a confidence, with one label."""

    file: str | None = None
    min_confidence: float = 0.0
    label: str | None = None


def list_facts(config: PipelineConfig, where: FactFilter, limit: int | None = None) -> list[tuple[Triple, str]]:
    """Each fact with the path of the document its sentence is from, most confident first."""
    with opened_store(config, read_only=True) as store:
        stored = store_facts(store)
        if where.file is not None and not any(_names_file(path, where.file) for path in store.documents()):
            raise InputError(f"no stored document is {where.file!r} (kgbuild query \"MATCH (d:Document) "
                             "RETURN d.path\" lists them)")
    facts = [(t, path) for t, path in stored
             if (where.file is None or _names_file(path, where.file)) and t.evidence.confidence >= where.min_confidence
             and (where.label is None or t.label == where.label)]
    facts.sort(key=lambda f: (-f[0].evidence.confidence, f[0].head.name, f[0].label, f[0].tail.name, f[1]))
    return facts[:limit] if limit is not None else facts


def _names_file(path: str, name: str) -> bool:
    return path == name or path.endswith("/" + name.lstrip("/")) or Path(path).name == name


def write_view(config: PipelineConfig, out: Path, entity: str | None = None,
               limit: int | None = 5000) -> dict[str, int]:
    """``kgbuild view``: the stored graph as one HTML file (see :mod:`kgbuild.graph.view`); the counts drawn."""
    data = graph_data(list_facts(config, FactFilter()), entity, limit)
    if entity is not None and not data["nodes"]:
        raise InputError(f"no stored relationship touches an entity named {entity!r}")
    with atomic_output(out) as tmp:
        tmp.write_text(render_view(data), encoding="utf-8")
    return {"entities": len(data["nodes"]), "relationships": len(data["edges"]), "stored": data["total_edges"]}
