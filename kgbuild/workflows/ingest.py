"""The ingest workflow: read → entities → pairs → labels → store, wired from a pipeline config.

Documents stream through in chunks of ``CHUNK_DOCUMENTS``: read, annotated, labelled and written
before the next chunk is read, so memory stays flat however large the folder. Each document is
written in its own transaction as soon as it is labelled, so an interrupted run keeps every
finished document and a re-run picks up the rest (finished ones are skipped as unchanged).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kgbuild.config import PipelineConfig
from kgbuild.entities.pairing import candidate_pairs
from kgbuild.entities.spacy_ner import SentenceAnnotator, load_spacy
from kgbuild.errors import InputError
from kgbuild.graph import open_store
from kgbuild.graph.store import DocumentRecord, GraphStore
from kgbuild.read import FileProblem, discover, read_document
from kgbuild.read.reader import document_path
from kgbuild.relations.extractor import RelationExtractor
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair, Document, Triple
from kgbuild.workflows.folder_sync import FolderState

log = logging.getLogger(__name__)

CHUNK_DOCUMENTS = 8


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
    stage_seconds: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The machine-readable run report: counts, timings and every skipped or failed file with its reason."""
        counts = {name: getattr(self, name) for name in (
            "files", "read", "unchanged", "replaced", "renamed", "duplicates", "removed", "sentences", "entities",
            "pairs", "triples")}
        problems = {kind: [{"path": p.path, "reason": p.reason} for p in items]
                    for kind, items in (("skipped", self.skipped), ("failed", self.failed))}
        return {**counts, **problems, "stage_seconds": self.stage_seconds, "pairs_per_second": self.pairs_per_second}

    @property
    def pairs_per_second(self) -> float:
        seconds = self.stage_seconds.get("label relations", 0.0)
        return self.pairs / seconds if seconds > 0 else 0.0

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.stage_seconds[stage] = self.stage_seconds.get(stage, 0.0) + time.perf_counter() - start


@dataclass
class IngestHooks:
    """Callbacks a front end hooks its progress display onto; the workflow itself prints nothing."""

    on_files: Callable[[int], None] = lambda n: None
    on_file_done: Callable[[str], None] = lambda path: None
    on_pairs_total: Callable[[int], None] = lambda n: None
    on_pairs_done: Callable[[int], None] = lambda n: None


class Ingestor:
    """Holds the loaded models so several folders (or tests) can reuse them."""

    def __init__(self, config: PipelineConfig, extractor: RelationExtractor | None = None,
                 nlp: Any | None = None) -> None:
        self.config = config
        self.schema: RelationSchema = extractor.schema if extractor else config.load_schema()
        self._extractor = extractor
        self._nlp = nlp

    def _annotator(self, summary: IngestSummary) -> SentenceAnnotator:
        if self._nlp is None:
            with summary.timed("load models"):
                self._nlp = load_spacy(self.config.entities.spacy_model)
        entities = self.config.entities
        return SentenceAnnotator(self._nlp, entities.max_sentence_chars, entities.batch_size, entities.segment_chars)

    def extractor(self, summary: IngestSummary) -> RelationExtractor:
        if self._extractor is None:
            with summary.timed("load models"):
                self._extractor = RelationExtractor.from_config(self.config)
        return self._extractor

    def ingest(self, root: Path, store: GraphStore, hooks: IngestHooks | None = None, *,
               keep_missing: bool = False) -> IngestSummary:
        """Make the graph reflect ``root`` (see :mod:`kgbuild.workflows.folder_sync`); each document is written
        in its own transaction, so a rerun after a crash completes the graph."""
        hooks = hooks or IngestHooks()
        summary = IngestSummary()
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
        chunk: list[tuple[Document, DocumentRecord | None]] = []
        for path in found.files:
            item = self._visit(path, state, store, summary, protected)
            if item is None:
                hooks.on_file_done(str(path))
                continue
            chunk.append(item)
            if item[1] is not None:
                protected.add(item[1].id)  # removed with the document that replaces it, not again below
            if len(chunk) == CHUNK_DOCUMENTS:
                self._ingest_chunk(chunk, store, summary, hooks)
                chunk = []
        if chunk:
            self._ingest_chunk(chunk, store, summary, hooks)
        listed = {document_path(p) for p in found.files}
        with summary.timed("write graph"):
            for record in state.to_remove(listed, protected, keep_missing):
                store.remove_document(record.id)
                summary.removed += 1
        return summary

    def _visit(self, path: Path, state: FolderState, store: GraphStore, summary: IngestSummary,
               protected: set[str]) -> tuple[Document, DocumentRecord | None] | None:
        """One file: settled here (unchanged, renamed, duplicate, unreadable), or returned to be labelled."""
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
        with summary.timed("read"):
            result = read_document(path, self.config.reader.max_bytes)
        if result.problem is not None or result.document is None:
            problem = result.problem or FileProblem(str(path), "nothing read", "failed")
            (summary.skipped if problem.kind == "skipped" else summary.failed).append(problem)
            if doc_path in state.stored:
                protected.add(state.stored[doc_path].id)  # keep the last good version's evidence
            return None
        summary.read += 1
        return result.document, decision.previous

    def _ingest_chunk(self, chunk: list[tuple[Document, DocumentRecord | None]], store: GraphStore,
                      summary: IngestSummary, hooks: IngestHooks) -> None:
        annotator = self._annotator(summary)
        pairs_by_doc: dict[str, list[CandidatePair]] = {}
        with summary.timed("sentences + entities"):
            for document, sentences in annotator.annotate(d for d, _ in chunk):
                summary.sentences += len(sentences)
                summary.entities += sum(len(s.mentions) for s in sentences)
                pairs_by_doc[document.id] = list(candidate_pairs(sentences, self.schema))
        all_pairs = [p for pairs in pairs_by_doc.values() for p in pairs]
        summary.pairs += len(all_pairs)
        labelled = []
        if all_pairs:
            extractor = self.extractor(summary)
            hooks.on_pairs_total(len(all_pairs))
            with summary.timed("label relations"):
                labelled = extractor.label(all_pairs, on_batch=hooks.on_pairs_done)
        model_id = self._extractor.model_id if self._extractor else ""
        triples_by_doc: dict[str, list[Triple]] = {d.id: [] for d, _ in chunk}
        for item in labelled:
            if item.label != self.schema.no_relation:
                triples_by_doc[item.pair.doc_id].append(Triple.from_labelled(item, model_id))
        with summary.timed("write graph"):
            for document, previous in chunk:
                triples = triples_by_doc[document.id]
                record = DocumentRecord(id=document.id, path=document.path, hash=document.hash)
                store.replace_document(record, triples, previous)
                summary.triples += len(triples)
                summary.replaced += previous is not None
                hooks.on_file_done(document.path)


def ingest_folder(config: PipelineConfig, folder: Path, hooks: IngestHooks | None = None, *,
                  keep_missing: bool = False) -> IngestSummary:
    """``kgbuild ingest``: the folder into the configured store, which is closed afterwards."""
    if not folder.exists() and not folder.is_symlink():
        raise InputError(f"input folder not found: {folder}")
    ingestor = Ingestor(config)  # loads the schema before any store is touched
    store = open_store(config.store)
    try:
        return ingestor.ingest(folder, store, hooks, keep_missing=keep_missing)
    finally:
        store.close()
