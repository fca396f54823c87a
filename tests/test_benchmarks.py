"""Benchmarks, outside the default suite: `bash tests/run.sh -m benchmark`."""

from __future__ import annotations

import pytest

from kgbuild.bench import neo4j_load
from kgbuild.config import Neo4jConfig


@pytest.mark.benchmark
@pytest.mark.neo4j
def test_neo4j_load_benchmark_small(neo4j_config: Neo4jConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    assert neo4j_config.password is not None
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_config.password.get_secret_value())
    result = neo4j_load.main(["--triples", "5000", "--entities", "1500", "--types", "10", "--batch-size", "500",
                              "--uri", neo4j_config.uri, "--user", neo4j_config.user, "--wipe"])
    assert result["relationships"] == result["distinct_edges"] > 0
    assert result["nodes"] == result["distinct_entities"]
    assert result["rerun_created_nodes"] == result["rerun_created_relationships"] == result["rerun_properties_set"] == 0
    assert result["first_load_rels_per_s"] > 0 and result["last_10pct_rels_per_s"] > 0
