"""Ingest's per-document work on Ray: reading + NER as Ray Data map tasks, labelling in an actor pool.

Labelling is the expensive stage and is independent per document, so it scales with workers. Each
labelling actor loads the model once (``map_batches`` with a class); each process keeps its spaCy
pipeline for the batches it runs after the first. When both stages reserve the same CPUs (the
default), Ray Data fuses the map into the actors, so a document is read, annotated and labelled on
one worker and only file paths and triples cross the network. Outcomes stream back to the calling process
in input order, and that process alone writes the store, one transaction per document, exactly as
the local path does. A batch whose code raises is run again (``executor.retries`` times at most)
and an actor that dies is restarted by Ray Data; a retried batch is recomputed whole and each
document reaches the writer once. Writes replace a document's evidence, so even a repeated write
would leave the same graph.

Ray is an optional extra: ``pip install 'kgbuild[ray]'``.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from typing import Any

from kgbuild.config import PipelineConfig
from kgbuild.entities.spacy_ner import SentenceAnnotator, annotator_for
from kgbuild.errors import ConfigError
from kgbuild.graph.store import DocumentRecord
from kgbuild.relations.extractor import RelationExtractor
from kgbuild.schema import RelationSchema
from kgbuild.workflows import document_stages as stages

log = logging.getLogger(__name__)

BATCH_DOCUMENTS = 8  # documents per Ray task: enough pairs to batch well, small enough to spread over workers
_ANNOTATORS: dict[str, SentenceAnnotator] = {}  # per Ray worker process: spaCy loads once, not once per task


def import_ray() -> Any:
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as exc:
        raise ConfigError("the Ray executor needs the optional extra: pip install 'kgbuild[ray]'") from exc
    return ray


def annotate_batch(batch: dict[str, Any], config: PipelineConfig) -> dict[str, Any]:
    """Ray Data map task: files → annotated documents (candidate pairs), with the time it took."""
    import numpy as np

    entities = config.entities
    annotator = _ANNOTATORS.get(entities.model_dump_json())  # one per settings: patterns, references, ...
    clock = stages.StageClock()
    if annotator is None:
        with stages.loading_models(clock):
            annotator = annotator_for(entities)
        _ANNOTATORS[entities.model_dump_json()] = annotator
    previous = zip(batch["previous_id"], batch["previous_path"], batch["previous_hash"], strict=True)
    items = [stages.WorkItem(str(path), DocumentRecord(str(i), str(p), str(h)) if i else None)
             for path, (i, p, h) in zip(batch["path"], previous, strict=True)]
    annotated = stages.read_and_annotate(items, annotator, config.load_schema(), config.reader.max_bytes, clock)
    share = {stage: seconds / len(annotated) for stage, seconds in clock.seconds.items()} if annotated else {}
    return {"annotated": _objects(annotated, np), "seconds": _objects([share] * len(annotated), np)}


class Labeller:
    """Ray Data actor: loads the relation extractor once, then labels batches of annotated documents."""

    def __init__(self, config: PipelineConfig) -> None:
        self.clock = stages.StageClock()
        with stages.loading_models(self.clock):
            self.extractor = RelationExtractor.from_config(config)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        annotated: list[stages.AnnotatedDocument] = list(batch["annotated"])
        clock, self.clock = self.clock, stages.StageClock()  # the model load is charged to the first batch only
        outcomes = stages.label_documents(annotated, lambda: self.extractor, clock)
        stages.share_seconds(outcomes, clock)
        for outcome, upstream in zip(outcomes, batch["seconds"], strict=True):
            for stage, seconds in upstream.items():  # this document's share of its reading + NER task
                outcome.seconds[stage] = outcome.seconds.get(stage, 0.0) + seconds
        return {"outcome": _objects(outcomes, np)}


def _objects(items: list[Any], np: Any) -> Any:
    """A 1-d object array: Ray Data carries the records as pickled Python objects."""
    array = np.empty(len(items), dtype=object)
    array[:] = items
    return array


class RayExecutor:
    """Runs the per-document stages on a Ray cluster (joined, or started locally for the run)."""

    def __init__(self, config: PipelineConfig, schema: RelationSchema, labeller: type[Labeller] = Labeller) -> None:
        self.config = config
        self.schema = schema
        self.labeller = labeller
        self._started_ray = False

    def run(self, items: Iterable[stages.WorkItem], clock: stages.Clock,
            hooks: stages.IngestHooks) -> Iterator[stages.DocumentOutcome]:
        work = list(items)
        if not work:
            return
        ray = import_ray()
        self._connect(ray)
        settings = self.config.executor
        context = ray.data.DataContext.get_current()
        context.execution_options.preserve_order = True  # same write order, so the same graph, as local
        context.retried_map_errors = True  # a batch whose code raised is run again in its task or actor,
        context.max_map_retries = settings.retries  # at most this often; a dead actor is restarted by Ray Data
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # its INFO/WARNING chatter would bury the CLI's
        context.enable_progress_bars = False  # the CLI shows its own; Ray's would interleave with it
        warnings.filterwarnings("ignore", message="The minimum number of concurrent actors")  # a small folder
        none = DocumentRecord("", "", "")
        rows = [{"path": item.path, **{f"previous_{k}": v for k, v in asdict(item.previous or none).items()}}
                for item in work]  # plain string columns: Arrow holds them without pickling
        dataset = ray.data.from_items(rows,
                                      override_num_blocks=max(1, -(-len(work) // BATCH_DOCUMENTS)))
        dataset = dataset.map_batches(annotate_batch, fn_kwargs={"config": self.config},
                                      batch_size=BATCH_DOCUMENTS, batch_format="numpy")
        dataset = dataset.map_batches(
            self.labeller, fn_constructor_kwargs={"config": self.config}, batch_size=BATCH_DOCUMENTS,
            batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=settings.workers),
            num_cpus=settings.cpus_per_worker,
        )
        for row in dataset.iter_rows():
            outcome: stages.DocumentOutcome = row["outcome"]
            hooks.on_pairs_total(outcome.pairs)
            hooks.on_pairs_done(outcome.pairs)
            yield outcome

    def _connect(self, ray: Any) -> None:
        if ray.is_initialized():
            return
        address = self.config.executor.ray_address
        log.info("connecting to Ray at %s", address or "a new local instance")
        ray.init(address=address, include_dashboard=False, configure_logging=False,
                 log_to_driver=False)
        self._started_ray = address is None

    def close(self) -> None:
        """Stop the local Ray this executor started; a joined cluster or a caller's Ray is left running."""
        if self._started_ray:
            import_ray().shutdown()
            self._started_ray = False
