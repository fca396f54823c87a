"""Typed name mentions in their sentences, from CoNLL04 and Re-DocRED: what ``kgbuild train-types`` teaches
the name-type classifier (``entities/context_types.py``) and where it picks its threshold.

The classes are coarse, as the two corpora agree on no finer ones: ``PERSON``, ``ORG``, ``PLACE`` and
``OTHER`` (Re-DocRED's MISC: works, events, nationalities). Dates and numbers are not names and are left out,
and so is CoNLL04's ``Other``, which holds mostly dates and amounts.

``train`` is CoNLL04 train and Re-DocRED dev, ``dev`` is CoNLL04 dev: the default pipeline's own split
(``datasets/default_training.py``), so the relation model and the type classifier never see each other's
dev sentences in training.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from kgbuild.datasets.common import TokenText, read_json
from kgbuild.datasets.conll04 import bilou_spans
from kgbuild.errors import DatasetError

CONLL04_CLASSES = {"Peop": "PERSON", "Org": "ORG", "Loc": "PLACE"}
REDOCRED_CLASSES = {"PER": "PERSON", "ORG": "ORG", "LOC": "PLACE", "MISC": "OTHER"}


@dataclass(frozen=True)
class TypedSentence:
    text: str
    spans: tuple[tuple[int, int, str], ...]  # character start, end and coarse class of each name


def typed_sentences(root: Path, split: str) -> list[TypedSentence]:
    """``root`` holds ``conll04/`` and ``re-docred/`` as published."""
    if split == "train":
        return conll04_sentences(root / "conll04" / "conll04_train.json") + redocred_sentences(
            root / "re-docred" / "dev_revised.json")
    if split == "dev":
        return conll04_sentences(root / "conll04" / "conll04_dev.json")
    raise DatasetError(f"typed names have splits train and dev, not '{split}'")


def conll04_sentences(file: Path) -> list[TypedSentence]:
    records = read_json(file)
    if not isinstance(records, list):
        raise DatasetError(f"{file}: expected a JSON list of sentences")
    sentences = []
    for number, record in enumerate(records):
        try:
            text = TokenText(record["tokens"])
            spans = [(start, end, CONLL04_CLASSES[type_]) for start, end, type_ in bilou_spans(record["tags"])
                     if type_ in CONLL04_CLASSES]
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"{file}: sentence {number}: malformed record ({exc})") from exc
        if spans:
            sentences.append(_typed(text, spans))
    return sentences


def redocred_sentences(file: Path) -> list[TypedSentence]:
    documents = read_json(file)
    if not isinstance(documents, list):
        raise DatasetError(f"{file}: expected a JSON list of documents")
    sentences = []
    for number, doc in enumerate(documents):
        try:
            by_sentence: dict[int, list[tuple[int, int, str]]] = {}
            for vertex in doc["vertexSet"]:
                for mention in vertex:
                    if mention["type"] in REDOCRED_CLASSES:
                        start, end = mention["pos"]
                        by_sentence.setdefault(mention["sent_id"], []).append(
                            (start, end, REDOCRED_CLASSES[mention["type"]]))
            texts = [TokenText(tokens) for tokens in doc["sents"]]
            sentences += [_typed(texts[sent_id], sorted(set(spans))) for sent_id, spans in sorted(by_sentence.items())]
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise DatasetError(f"{file}: document {number}: malformed record ({exc})") from exc
    return sentences


def _typed(text: TokenText, spans: list[tuple[int, int, str]]) -> TypedSentence:
    mentions = [(text.mention(start, end, label), label) for start, end, label in spans]
    return TypedSentence(text.text, tuple((m.start, m.end, label) for m, label in mentions))


def with_replaced_names(sentence: TypedSentence, pool: Mapping[str, Sequence[str]], rng: random.Random,
                        share: float) -> TypedSentence:
    """``sentence`` with each name, at chance ``share``, swapped for a random name of its class from ``pool``
    (mention replacement): the words around a name stay, its spelling changes, so a classifier learns from
    the context. Overlapping spans are left as they are."""
    spans = sorted(sentence.spans)
    if any(a < prev_end for (_, prev_end, _), (a, _, _) in zip(spans, spans[1:], strict=False)):
        return sentence
    text, position, new = "", 0, []
    for start, end, label in spans:
        name = rng.choice(pool[label]) if pool.get(label) and rng.random() < share else sentence.text[start:end]
        text += sentence.text[position:start]
        new.append((len(text), len(text) + len(name), label))
        text += name
        position = end
    return TypedSentence(text + sentence.text[position:], tuple(new))
