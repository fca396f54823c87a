"""Graph stores behind one interface: the embedded default (LadybugDB) and Neo4j."""

from __future__ import annotations

from pathlib import Path

from kgbuild.config import StoreConfig
from kgbuild.graph.store import GraphStore, StoreError


def open_store(config: StoreConfig, read_only: bool = False) -> GraphStore:
    """Open the configured store. The embedded path resolves against the working directory; the Neo4j
    settings are used as given (callers apply ``Neo4jConfig.resolved()`` for the environment)."""
    if config.kind == "embedded":
        from kgbuild.graph.embedded import EmbeddedStore

        return EmbeddedStore(Path(config.path).expanduser(), read_only=read_only, buffer_pool_mb=config.buffer_pool_mb)
    if config.kind == "neo4j":
        from kgbuild.graph.neo4j_store import Neo4jStore

        return Neo4jStore(config.neo4j, read_only=read_only)
    raise StoreError(f"unknown store kind {config.kind!r}")  # pragma: no cover - pydantic guards this


__all__ = ["GraphStore", "StoreError", "open_store"]
