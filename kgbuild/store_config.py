"""The ``store`` section of a pipeline file: the embedded store or a Neo4j server, and how to reach it.

Kept apart from :mod:`kgbuild.config` (which re-exports it), as ``training_config`` is, so that the pipeline
model stays one page.
"""

from __future__ import annotations

import os
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class Neo4jConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uri: str = "bolt://localhost:7687"
    user: str = "neo4j"
    password: SecretStr | None = None
    database: str = "neo4j"
    batch_size: int = Field(default=10_000, gt=0, description="rows per write transaction in bulk loads")
    retry_seconds: float = Field(default=30.0, ge=0.0,
                                 description="how long a write is retried while the server is unreachable")

    def resolved(self) -> Neo4jConfig:
        """Environment variables override the file, so credentials need not live in YAML."""
        env_password = os.environ.get("NEO4J_PASSWORD")
        return self.model_copy(
            update={
                "uri": os.environ.get("NEO4J_URI", self.uri),
                "user": os.environ.get("NEO4J_USER", os.environ.get("NEO4J_USERNAME", self.user)),
                "password": SecretStr(env_password) if env_password is not None else self.password,
                "database": os.environ.get("NEO4J_DATABASE", self.database),
            }
        )


class StoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Literal["embedded", "neo4j"] = "embedded"
    path: str = "kgbuild-graph.lbug"
    buffer_pool_mb: int = Field(default=512, ge=64, description="embedded store: page cache; memory stays within "
                                                                 "it however large the graph grows")
    neo4j: Neo4jConfig = Neo4jConfig()
