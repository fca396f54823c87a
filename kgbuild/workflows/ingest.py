"""The ingest workflow: read → entities → pairs → labels → store, wired from a pipeline config.

The folder sync decides, file by file, what needs (re)labelling; an executor turns those files into
labelled documents (:mod:`kgbuild.workflows.document_stages`): in this process, in chunks of
``CHUNK_DOCUMENTS`` so memory stays flat however large the folder, or on Ray workers
(:mod:`kgbuild.workflows.ray_executor`). Either way this process is the one writer: each document is
written in its own transaction as soon as it comes back, so an interrupted run keeps every finished
document and a re-run picks up the rest (finished ones are skipped as unchanged).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, suppress
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

from kgbuild.config import PipelineConfig
from kgbuild.entities.spacy_ner import SentenceAnnotator, annotator_for, load_spacy
from kgbuild.errors import InputError
from kgbuild.graph import open_store
from kgbuild.graph.store import GraphStore
from kgbuild.read import FileProblem, discover
from kgbuild.read.reader import document_path
from kgbuild.relations.device import number_format
from kgbuild.relations.extractor import RelationExtractor
from kgbuild.schema import RelationSchema
from kgbuild.types import REFERENCE_REASONS
from kgbuild.workflows.document_stages import (
    Clock,
    DocumentOutcome,
    IngestHooks,
    StageClock,
    WorkItem,
    label_documents,
    loading_models,
    read_and_annotate,
)
from kgbuild.workflows.folder_sync import FolderState
from kgbuild.workflows.resolve import merge_similar_entities

log = logging.getLogger(__name__)

CHUNK_DOCUMENTS = 8


class Executor(Protocol):
    """Turns files to (re)label into outcomes, in the order given; the caller writes them."""

    def run(self, items: Iterable[WorkItem], clock: Clock, hooks: IngestHooks) -> Iterator[DocumentOutcome]: ...

    def close(self) -> None: ...


def chunked(items: Iterable[WorkItem], size: int) -> Iterator[list[WorkItem]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


@dataclass
class IngestSummary:
    files: int = 0
    read: int = 0
    unchanged: int = 0
    replaced: int = 0
    renamed: int = 0
    duplicates: int = 0
    removed: int = 0
    skipped: list[FileProblem] = field(default_factory=list)
    failed: list[FileProblem] = field(default_factory=list)
    sentences: int = 0
    entities: int = 0
    pairs: int = 0
    triples: int = 0
    merged: int = 0  # cross-document entity merges made at the end of the run
    number_format: str = ""  # what the relation model computes in, on which CPU kind or GPU
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The machine-readable run report: counts, timings and every skipped or failed file with its reason."""
        counts = {name: getattr(self, name) for name in (
            "files", "read", "unchanged", "replaced", "renamed", "duplicates", "removed", "sentences", "entities",
            "pairs", "triples", "merged")}
        problems = {kind: [{"path": p.path, "reason": p.reason} for p in items]
                    for kind, items in (("skipped", self.skipped), ("failed", self.failed))}
        return {**counts, **problems, "stage_seconds": self.stage_seconds, "pairs_per_second": self.pairs_per_second,
                "number_format": self.number_format}

    @property
    def pairs_per_second(self) -> float:
        seconds = self.stage_seconds.get("label relations", 0.0)
        return self.pairs / seconds if seconds > 0 else 0.0

    def timed(self, stage: str) -> AbstractContextManager[None]:
        return StageClock(self.stage_seconds).timed(stage)

    def add(self, stage: str, seconds: float) -> None:
        StageClock(self.stage_seconds).add(stage, seconds)


class LocalExecutor:
    """In-process: documents in chunks of ``CHUNK_DOCUMENTS``, read, annotated and labelled before the next
    chunk is read, with the models loaded once (lazily: a folder without pairs never loads the LM)."""

    def __init__(self, config: PipelineConfig, schema: RelationSchema, extractor: RelationExtractor | None = None,
                 nlp: Any | None = None) -> None:
        self.config = config
        self.schema = schema
        self._extractor = extractor
        self._nlp = nlp

    def run(self, items: Iterable[WorkItem], clock: Clock, hooks: IngestHooks) -> Iterator[DocumentOutcome]:
        for chunk in chunked(items, CHUNK_DOCUMENTS):
            annotated = read_and_annotate(chunk, self._annotator(clock), self.schema, self.config.reader.max_bytes,
                                          clock)
            hooks.on_pairs_total(sum(len(a.pairs) for a in annotated))
            yield from label_documents(annotated, lambda: self._extractor_for(clock), clock, hooks.on_pairs_done)

    def _annotator(self, clock: Clock) -> SentenceAnnotator:
        if self._nlp is None:
            with loading_models(clock):
                self._nlp = load_spacy(self.config.entities.spacy_model)
        return annotator_for(self.config.entities, self._nlp)

    def _extractor_for(self, clock: Clock) -> RelationExtractor:
        if self._extractor is None:
            with loading_models(clock):
                self._extractor = RelationExtractor.from_config(self.config)
        return self._extractor

    def close(self) -> None:
        """Nothing to release: the models live as long as this executor."""


class Ingestor:
    """Decides per file what to do (folder sync), hands the files to (re)label to an executor, and writes
    what comes back: the one writer of the store, each document in its own transaction."""

    def __init__(self, config: PipelineConfig, extractor: RelationExtractor | None = None,
                 nlp: Any | None = None, executor: Executor | None = None) -> None:
        self.config = config
        self.schema: RelationSchema = extractor.schema if extractor else config.load_schema()
        self.executor = executor or make_executor(config, self.schema, extractor, nlp)

    def ingest(self, root: Path, store: GraphStore, hooks: IngestHooks | None = None, *,
               keep_missing: bool = False) -> IngestSummary:
        """Make the graph reflect ``root`` (see :mod:`kgbuild.workflows.folder_sync`); each document is written
        in its own transaction, so a rerun after a crash completes the graph."""
        hooks = hooks or IngestHooks()
        summary = IngestSummary(number_format=number_format(self.config.generator.dtype, self.config.generator.device))
        if not root.exists() and not root.is_symlink():
            raise InputError(f"input folder not found: {root}")
        store.ensure_schema(self.schema)
        reader = self.config.reader
        found = discover(root, reader.extensions, reader.recursive, reader.follow_links)
        summary.skipped += found.skipped
        summary.files = len(found.files)
        hooks.on_files(len(found.files))
        with summary.timed("read"):
            state = FolderState.scan(found.files, store.documents(), reader.max_bytes)
        protected: set[str] = set()  # stored ids the removal below must not touch
        work: list[WorkItem] = []
        for path in found.files:
            item = self._settle(path, state, store, summary)
            if item is None:
                hooks.on_file_done(str(path))
                continue
            work.append(item)
            if item.previous is not None:
                protected.add(item.previous.id)  # removed with the document that replaces it, not again below
        for outcome in self.executor.run(work, summary, hooks):
            if not self._write(outcome, store, summary):
                stored = state.stored.get(document_path(Path(outcome.item.path)))
                if stored is not None:
                    protected.add(stored.id)  # unreadable now: its last good version's evidence stays
            hooks.on_file_done(outcome.item.path)
        listed = {document_path(p) for p in found.files}
        with summary.timed("write graph"):
            for record in state.to_remove(listed, protected, keep_missing):
                store.remove_document(record.id)
                summary.removed += 1
        if self.config.resolution.across_documents and (summary.read or summary.removed):
            with summary.timed("resolve entities"):
                summary.merged = len(merge_similar_entities(store, self.config))
        return summary

    def _settle(self, path: Path, state: FolderState, store: GraphStore, summary: IngestSummary) -> WorkItem | None:
        """One file: settled here (unchanged, renamed, duplicate), or returned to be read and labelled."""
        doc_path = document_path(path)
        decision = state.decide(doc_path)
        if decision.action == "unchanged":
            summary.unchanged += 1
            return None
        if decision.action == "duplicate":
            summary.duplicates += 1
            summary.skipped.append(FileProblem(str(path), f"same content as {decision.canonical}", "skipped"))
            return None
        if decision.action == "renamed":
            assert decision.record is not None
            with summary.timed("write graph"):
                store.replace_document(decision.record, [])  # moves the document; its evidence stays
            summary.renamed += 1
            return None
        return WorkItem(str(path), decision.previous)

    def close(self) -> None:
        self.executor.close()

    def _write(self, outcome: DocumentOutcome, store: GraphStore, summary: IngestSummary) -> bool:
        """A labelled document replaces its previous version atomically; False when the file was unreadable."""
        for stage, seconds in outcome.seconds.items():  # work done elsewhere (Ray workers)
            summary.stage_seconds[stage] = summary.stage_seconds.get(stage, 0.0) + seconds
        if outcome.problem is not None or outcome.record is None:
            problem = outcome.problem or FileProblem(outcome.item.path, "nothing read", "failed")
            (summary.skipped if problem.kind == "skipped" else summary.failed).append(problem)
            return False
        summary.read += 1
        summary.sentences += outcome.sentences
        summary.entities += outcome.entities
        summary.pairs += outcome.pairs
        with summary.timed("write graph"):
            aliases = [a for a in outcome.aliases  # a pronoun link is kept whatever resolution says: it is listed
                       if self.config.resolution.within_document or a.reason in REFERENCE_REASONS]  # and undone
            store.replace_document(outcome.record, outcome.triples, outcome.item.previous, aliases)
        summary.triples += len(outcome.triples)
        summary.replaced += outcome.item.previous is not None
        return True


def make_executor(config: PipelineConfig, schema: RelationSchema, extractor: RelationExtractor | None = None,
                  nlp: Any | None = None) -> Executor:
    """The executor the pipeline's ``executor`` section names."""
    if config.executor.kind == "ray":
        from kgbuild.workflows.ray_executor import RayExecutor

        return RayExecutor(config, schema)
    return LocalExecutor(config, schema, extractor, nlp)


def ingest_folder(config: PipelineConfig, folder: Path, hooks: IngestHooks | None = None, *,
                  keep_missing: bool = False, extractor: RelationExtractor | None = None,
                  nlp: Any | None = None) -> IngestSummary:
    """``kgbuild ingest``: the folder into the configured store, which is closed afterwards. A store the run
    created is removed again when the run fails before writing any document (a bad bank or adapter).
    ``extractor`` and ``nlp``: models a caller already loaded (the Python API keeps them between calls)."""
    if not folder.exists() and not folder.is_symlink():
        raise InputError(f"input folder not found: {folder}")
    ingestor = Ingestor(config, extractor, nlp)  # loads the schema before any store is touched
    created = _new_embedded_store(config)
    store = open_store(config.store)
    discard: Path | None = None
    try:
        return ingestor.ingest(folder, store, hooks, keep_missing=keep_missing)
    except BaseException:
        if created is not None and _holds_no_document(store):
            discard = created
        raise
    finally:
        store.close()
        ingestor.close()
        if discard is not None:
            _remove_embedded_store(discard)


def _new_embedded_store(config: PipelineConfig) -> Path | None:
    """The embedded store this run is about to create (None: it exists already, or the store is Neo4j)."""
    if config.store.kind != "embedded":
        return None
    path = Path(config.store.path).expanduser()
    return None if path.exists() or path.is_symlink() else path


def _holds_no_document(store: GraphStore) -> bool:
    """Whether a failed run wrote nothing worth keeping (a store that cannot even say so is kept)."""
    try:
        return not store.documents()
    except Exception:
        log.debug("cannot list the documents of a failed run's store", exc_info=True)
        return False


def _remove_embedded_store(path: Path) -> None:
    """Take back the empty store a failed run created (its file and write-ahead log), so that a bad bank or
    adapter leaves nothing behind that later looks like a graph."""
    for file in (path, path.with_name(path.name + ".wal")):
        if file.is_file() and not file.is_symlink():
            with suppress(OSError):  # the run's own error is the one to report
                file.unlink()
