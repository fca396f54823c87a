"""The per-document stages of ingest, as plain functions over picklable records, so that every executor
(in-process or on Ray workers) runs the same code: read + sentences + entities + pairs, then labels.

A ``WorkItem`` goes in (a file the folder sync decided to (re)label); a ``DocumentOutcome`` comes out
(its record and triples, or the reason it could not be read). Writing stays with the caller, the one
writer of the store.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kgbuild.entities.pairing import candidate_pairs
from kgbuild.entities.references import reference_aliases
from kgbuild.entities.spacy_ner import SentenceAnnotator
from kgbuild.graph.store import DocumentRecord
from kgbuild.read import FileProblem, read_document
from kgbuild.relations.extractor import RelationExtractor
from kgbuild.relations.preparation import prepared_seconds
from kgbuild.resolution.within_document import document_aliases
from kgbuild.schema import RelationSchema
from kgbuild.types import Alias, CandidatePair, Document, Sentence, Triple


@dataclass(frozen=True)
class WorkItem:
    """A file to read and label; ``previous`` is the stored version it replaces, if any."""

    path: str
    previous: DocumentRecord | None = None


class Clock(Protocol):
    def timed(self, stage: str) -> AbstractContextManager[None]: ...

    def add(self, stage: str, seconds: float) -> None: ...


@dataclass
class IngestHooks:
    """Callbacks a front end hooks its progress display onto; the workflow itself prints nothing."""

    on_files: Callable[[int], None] = lambda n: None
    on_file_done: Callable[[str], None] = lambda path: None
    on_pairs_total: Callable[[int], None] = lambda n: None
    on_pairs_done: Callable[[int], None] = lambda n: None


@dataclass
class StageClock:
    """Seconds per stage; outcomes carry one so work done on other machines is still accounted for."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(stage, time.perf_counter() - start)

    def add(self, stage: str, seconds: float) -> None:
        self.seconds[stage] = self.seconds.get(stage, 0.0) + seconds


PREPARE_STAGE = "prepare models (first run only)"


@contextmanager
def loading_models(clock: Clock) -> Iterator[None]:
    """The "load models" stage, less what a first run spends preparing (GGUF conversion, FAISS index build):
    that is :data:`PREPARE_STAGE`, a line of its own, so a user sees what later runs will not repeat."""
    started, before = time.perf_counter(), prepared_seconds()
    try:
        yield
    finally:
        prepared = prepared_seconds() - before
        clock.add("load models", time.perf_counter() - started - prepared)
        if prepared > 0:
            clock.add(PREPARE_STAGE, prepared)


@dataclass
class DocumentFacts:
    """One file's record (or why it could not be read) and its counts, as it moves through the stages."""

    item: WorkItem
    record: DocumentRecord | None = None
    problem: FileProblem | None = None
    sentences: int = 0
    entities: int = 0
    aliases: list[Alias] = field(default_factory=list)  # names the document gives one entity (acronyms, ...)


@dataclass
class AnnotatedDocument(DocumentFacts):
    """Between the two stages: the document's candidate pairs."""

    pairs: list[CandidatePair] = field(default_factory=list)


@dataclass
class DocumentOutcome(DocumentFacts):
    """After labelling: the triples to write."""

    triples: list[Triple] = field(default_factory=list)
    pairs: int = 0
    seconds: dict[str, float] = field(default_factory=dict)  # this document's share of each stage


def read_and_annotate(items: Sequence[WorkItem], annotator: SentenceAnnotator, schema: RelationSchema,
                      max_bytes: int, clock: Clock) -> list[AnnotatedDocument]:
    """Read each file (a bad file becomes a ``FileProblem``, never an exception), then split the readable
    ones into sentences with entities and pair the entities the schema allows."""
    annotated: list[AnnotatedDocument] = []
    documents: list[Document] = []
    with clock.timed("read"):
        for item in items:
            result = read_document(Path(item.path), max_bytes)
            if result.problem is not None or result.document is None:
                problem = result.problem or FileProblem(item.path, "nothing read", "failed")
                annotated.append(AnnotatedDocument(item, problem=problem))
                continue
            document = result.document
            documents.append(document)
            annotated.append(AnnotatedDocument(item, DocumentRecord(document.id, document.path, document.hash)))
    by_id = {a.record.id: a for a in annotated if a.record is not None}
    with clock.timed("sentences + entities"):
        for found in annotate_documents(documents, annotator, schema):
            target = by_id[found.document.id]
            target.sentences = len(found.sentences)
            target.entities = sum(1 for s in found.sentences for m in s.mentions if not m.link)
            target.pairs = found.pairs
            target.aliases = found.aliases
    return annotated


@dataclass
class Annotation:
    """What the first stage finds in one document: sentences with entities, the pairs the schema allows,
    and the names the document gives one entity (short forms, pronoun links)."""

    document: Document
    sentences: list[Sentence]
    pairs: list[CandidatePair]
    aliases: list[Alias]


def annotate_documents(documents: Iterable[Document], annotator: SentenceAnnotator,
                       schema: RelationSchema) -> Iterator[Annotation]:
    """Sentences, entities, candidate pairs and aliases per document: the one path that ingest, the Python
    API and the spaCy component share."""
    for document, sentences in annotator.annotate(documents):
        yield Annotation(document, sentences, list(candidate_pairs(sentences, schema, annotator.pair_window)),
                         document_aliases(document.id, sentences) + reference_aliases(document.id, sentences))


def label_documents(annotated: Sequence[AnnotatedDocument], extractor: Callable[[], RelationExtractor],
                    clock: Clock, on_pairs_done: Callable[[int], None] | None = None) -> list[DocumentOutcome]:
    """Label every pair of the batch in one call (batching across documents keeps the model busy) and
    keep, per document, the pairs that got a relation. ``extractor`` is only called when there are
    pairs, so a folder without any never loads the model."""
    pairs = [p for a in annotated for p in a.pairs]
    triples: dict[str, list[Triple]] = defaultdict(list)
    if pairs:
        model = extractor()
        with clock.timed("label relations"):
            labelled = model.label(pairs, on_batch=on_pairs_done)
        for item in labelled:
            if item.label != model.schema.no_relation:
                triples[item.pair.doc_id].append(Triple.from_labelled(item, model.model_id))
    return [DocumentOutcome(a.item, a.record, a.problem, a.sentences, a.entities, a.aliases,
                            triples=triples[a.record.id] if a.record else [], pairs=len(a.pairs)) for a in annotated]


def share_seconds(outcomes: Sequence[DocumentOutcome], clock: StageClock) -> None:
    """Give each document of a batch an equal share of the batch's stage times, so that sums over documents
    coming back from several workers still add up to the time spent."""
    for outcome in outcomes:
        outcome.seconds = {stage: seconds / len(outcomes) for stage, seconds in clock.seconds.items()}
