"""Benchmarks, outside the default suite: `bash tests/run.sh -m benchmark`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kgbuild.bench import neo4j_load
from kgbuild.config import Neo4jConfig


@pytest.mark.benchmark
@pytest.mark.neo4j
def test_neo4j_load_benchmark_small(neo4j_config: Neo4jConfig, monkeypatch: pytest.MonkeyPatch) -> None:
    assert neo4j_config.password is not None
    monkeypatch.setenv("NEO4J_PASSWORD", neo4j_config.password.get_secret_value())
    result = neo4j_load.main(["--triples", "5000", "--entities", "1500", "--types", "10", "--batch-size", "500",
                              "--uri", neo4j_config.uri, "--user", neo4j_config.user, "--wipe",
                              "--compare", "merge,merge-dynamic,in-transactions,one-writer,two-writers"])
    assert result["relationships"] == result["distinct_edges"] > 0
    assert result["nodes"] == result["distinct_entities"]
    assert result["rerun_created_nodes"] == result["rerun_created_relationships"] == result["rerun_properties_set"] == 0
    assert result["first_load_rels_per_s"] > 0 and result["last_10pct_rels_per_s"] > 0
    assert len(result["slice_rels_per_s"]) == 10
    assert any("CREATE" in p["statement"] and p["db_hits"] > 0 for p in result["profile_first_batch"])
    assert set(result["compared"]) == {"merge", "merge-dynamic", "in-transactions", "one-writer", "two-writers"}


def test_free_text_maps_back_to_a_label() -> None:
    from kgbuild.bench.labelling import text_to_label

    labels = ["works_for", "works_for_free", "no_relation"]
    assert text_to_label(" works_for\nmore", labels, "no_relation") == "works_for"
    assert text_to_label(" works_for_free.", labels, "no_relation") == "works_for_free"
    assert text_to_label("I think it is works_for", labels, "no_relation") == "no_relation"
    assert text_to_label("", labels, "no_relation") == "no_relation"


def test_conll04_bench_set_keeps_whole_sentences() -> None:
    from kgbuild.bench.labelling import whole_sentences
    from kgbuild.types import CandidatePair, Mention

    def pair(text: str) -> CandidatePair:
        return CandidatePair(text, Mention("a", "X", 0, 1), Mention("b", "Y", 2, 3))

    pairs = [pair("s1"), pair("s1"), pair("s2"), pair("s3"), pair("s3"), pair("s3")]
    assert [p.text for p in whole_sentences(pairs, 3)] == ["s1", "s1", "s2"]
    assert len(whole_sentences(pairs, 4)) == 6


def test_generated_bench_corpus_is_seeded(tmp_path: Path) -> None:
    from kgbuild.bench.ingest import generate

    first, second = generate(tmp_path / "a", 5), generate(tmp_path / "b", 5)
    names = sorted(p.name for p in first.iterdir())
    assert len(names) == 5 and names == sorted(p.name for p in second.iterdir())
    assert all((first / n).read_text() == (second / n).read_text() for n in names)


def test_approximate_index_finds_the_exact_neighbours(tmp_path: Path) -> None:
    import numpy as np

    from kgbuild.bench.retrieval import unit_vectors
    from kgbuild.relations.retrieval import build_index

    bank, probes = unit_vectors(2000, 1), unit_vectors(20, 2)
    _, exact = build_index(bank, approximate=False).search(probes, 3)
    _, approx = build_index(bank, approximate=True).search(probes, 3)
    recall = np.mean([len(set(a) & set(b)) / 3 for a, b in zip(exact, approx, strict=True)])
    assert recall >= 0.9


def test_view_bench_graphs_are_seeded_and_distinct() -> None:
    from kgbuild.bench.view import synthetic_facts

    facts = synthetic_facts(300)
    assert len({(t.head.key, t.label, t.tail.key) for t, _ in facts}) == 300
    assert [t.head.name for t, _ in facts[:5]] == [t.head.name for t, _ in synthetic_facts(300)[:5]]


def test_store_growth_bench_measures_at_each_size(tmp_path: Path) -> None:
    from kgbuild.bench.store_growth import main

    main(["--facts", "60", "--step", "30", "--entities", "20", "--documents", "2", "--buffer-pool-mb", "256",
          "--out", str(tmp_path / "growth.json")])
    sizes = json.loads((tmp_path / "growth.json").read_text(encoding="utf-8"))["sizes"]
    assert [s["facts"] for s in sizes] == [30, 60]
    assert all(s["new_document_ms"] > 0 and s["changed_document_ms"] > 0 for s in sizes)


def test_edge_support_bench_reports_the_support_it_built(tmp_path: Path) -> None:
    from kgbuild.bench.edge_support import main

    main(["--documents", "4", "--every", "2", "--out", str(tmp_path / "support.json")])
    spans = json.loads((tmp_path / "support.json").read_text(encoding="utf-8"))["spans"]
    assert [s["support"] for s in spans] == [2, 4]
    assert spans[1]["evidence_mb"] > spans[0]["evidence_mb"] > 0


@pytest.mark.model
@pytest.mark.data("conll04/conll04_dev.json")
def test_type_cues_bench_counts_what_the_cues_change(tmp_path: Path) -> None:
    from kgbuild.bench.type_cues import main

    main(["--limit", "60", "--out", str(tmp_path / "cues.json")])
    result = json.loads((tmp_path / "cues.json").read_text(encoding="utf-8"))
    assert result["names"] > 50 and 0 <= result.get("cues right", 0) <= result.get("cues", 0)
    changed = result.get("cues changed right", 0) - result.get("cues changed wrong", 0)
    assert result["with cues right"] == result["classifier right"] + changed
