"""Benchmarks, outside the default suite: `bash tests/run.sh -m benchmark`."""

from __future__ import annotations

import pytest

from kgbuild.bench import neo4j_load


@pytest.mark.benchmark
@pytest.mark.neo4j
def test_neo4j_load_benchmark_small() -> None:
    result = neo4j_load.main(["--triples", "5000", "--entities", "1500", "--types", "10", "--start-test-server"])
    assert result["rerun_created_nodes"] == 0 and result["rerun_created_relationships"] == 0
    assert result["relationships"] > 0 and result["first_load_rels_per_s"] > 0
