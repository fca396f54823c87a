"""kgbuild's relation labelling as a spaCy pipeline component, registered through spaCy's entry points.

    nlp = spacy.load("en_core_web_md")
    nlp.add_pipe("kgbuild_relations", config={"pipeline": None})   # after the NER; None: the default pipeline
    doc = nlp("Ada Lovelace works for Acme Corp in London.")
    for rel in doc._.relations:
        print(rel.head, rel.label, rel.tail, rel.confidence)       # head and tail are spaCy Spans

The entities are the ones the earlier components found (``doc.ents``); pairing, pronoun links, the
retriever, the prompt and the scorer are the pipeline's, as in ``kgbuild ingest``. ``nlp.pipe`` labels the
pairs of a whole batch of documents in one call, and every component that names the same pipeline file
shares one loaded model.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from spacy.language import Language
from spacy.tokens import Doc, Span

from kgbuild.config import PipelineConfig, load_pipeline
from kgbuild.entities.pairing import candidate_pairs
from kgbuild.entities.spacy_ner import annotator_for
from kgbuild.relations.extractor import RelationExtractor
from kgbuild.types import CandidatePair, Document, Mention

FACTORY = "kgbuild_relations"
_EXTRACTORS: dict[tuple[str, str | None], RelationExtractor] = {}  # (pipeline file, device): loaded once


@dataclass(frozen=True)
class Relation:
    """One labelled pair of ``doc.ents``. ``head_name``/``tail_name``: the name a pronoun stands for
    ("She" → "Ada Lovelace"), else the span's own words."""

    head: Span
    label: str
    tail: Span
    confidence: float
    head_name: str
    tail_name: str


class RelationComponent:
    """Sets ``doc._.relations``: every pair of entities in a sentence that the schema allows and the model
    labels with a relation (``no_relation`` answers are left out)."""

    def __init__(self, nlp: Language, name: str, pipeline: str | None, device: str | None,
                 batch_size: int) -> None:
        self.name = name
        self.config: PipelineConfig = load_pipeline(pipeline).with_overrides(device=device)
        self.batch_size = batch_size
        self._annotator = annotator_for(self.config.entities.model_copy(update={"patterns": None}), nlp)
        if not Doc.has_extension("relations"):
            Doc.set_extension("relations", default=None)

    @property
    def extractor(self) -> RelationExtractor:
        key = (str(self.config.source), self.config.generator.device)
        if key not in _EXTRACTORS:
            _EXTRACTORS[key] = RelationExtractor.from_config(self.config)
        return _EXTRACTORS[key]

    def __call__(self, doc: Doc) -> Doc:
        (done,) = self.pipe([doc])
        return done

    def pipe(self, docs: Iterable[Doc], batch_size: int | None = None) -> Iterator[Doc]:
        stream = iter(docs)
        while batch := list(islice(stream, batch_size or self.batch_size)):
            yield from self._label(batch)

    def _label(self, docs: list[Doc]) -> list[Doc]:
        schema = self.extractor.schema
        pairs_of = [self._pairs(doc) for doc in docs]
        labelled = iter(self.extractor.label([pair for pairs in pairs_of for pair in pairs]))
        for doc, pairs in zip(docs, pairs_of, strict=True):
            relations = []
            for pair, answer in zip(pairs, islice(labelled, len(pairs)), strict=True):
                if answer.label == schema.no_relation:
                    continue
                head, tail = _span(doc, pair, pair.head), _span(doc, pair, pair.tail)
                if head is not None and tail is not None:
                    relations.append(Relation(head, answer.label, tail, answer.confidence, pair.head.name,
                                              pair.tail.name))
            doc._.relations = relations
        return docs

    def _pairs(self, doc: Doc) -> list[CandidatePair]:
        document = Document(id="spacy-doc", path="<spacy doc>", hash="", text=doc.text)  # offsets are doc's own
        sentences = self._annotator.sentences_of(document, [(0, doc)])
        return list(candidate_pairs(sentences, self.extractor.schema, self._annotator.pair_window))


def _span(doc: Doc, pair: CandidatePair, mention: Mention) -> Span | None:
    start = pair.sentence_start + mention.start
    return doc.char_span(start, start + mention.end - mention.start, alignment_mode="expand")


@Language.factory(FACTORY, default_config={"pipeline": None, "device": None, "batch_size": 64},
                  requires=["doc.ents", "doc.sents"], assigns=["doc._.relations"])
def make_relation_component(nlp: Language, name: str, pipeline: str | None, device: str | None,
                            batch_size: int) -> RelationComponent:
    """``pipeline``: a kgbuild pipeline YAML (None: the default); ``device``: overrides ``generator.device``;
    ``batch_size``: documents whose pairs are labelled in one call by ``nlp.pipe``."""
    return RelationComponent(nlp, name, None if pipeline is None else str(Path(pipeline)), device, batch_size)


__all__ = ["FACTORY", "Relation", "RelationComponent", "make_relation_component"]
