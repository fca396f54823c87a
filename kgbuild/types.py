"""Typed records passed between stages.

The flow is one-way: ``Document`` → ``Sentence``/``Mention`` → ``CandidatePair`` →
``LabelledPair`` → ``Triple`` → store. A benchmark example is a ``CandidatePair`` with a
gold ``label``, so training, evaluation and ingest share one code path.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import MISSING, asdict, dataclass, field, fields
from functools import cached_property
from json.encoder import encode_basestring
from typing import Any

from kgbuild.errors import MalformedRecordError
from kgbuild.keys import MAX_KEY_NAME as MAX_KEY_NAME
from kgbuild.keys import entity_key as entity_key
from kgbuild.keys import name_key as name_key
from kgbuild.keys import normalise_name as normalise_name
from kgbuild.keys import strip_article as strip_article

NO_RELATION = "no_relation"


@dataclass(frozen=True)
class Document:
    """A readable source file. ``id`` derives from the content hash so it is stable across runs."""

    id: str
    path: str
    hash: str
    text: str


@dataclass(frozen=True)
class Mention:
    """An entity mention; ``start``/``end`` are character offsets into the sentence text.

    A pronoun or a description ("She", "the company") is a mention too, once linked to a name the document
    gave earlier: ``text`` stays the words as written, ``refers_to`` is that name as written, ``link`` why
    (``pronoun`` or ``description``).
    """

    text: str
    type: str
    start: int
    end: int
    refers_to: str = ""
    link: str = ""

    @property
    def name(self) -> str:
        """The name this mention stands for: its own words, or the name a pronoun refers to."""
        return self.refers_to or self.text


@dataclass(frozen=True)
class Sentence:
    doc_id: str
    index: int
    start: int  # character offset of the sentence in its document
    text: str
    mentions: tuple[Mention, ...] = ()
    # the block of text it stands in: a blank line, a list item, a headline, byline or dateline starts a new one
    paragraph: int = 0


@dataclass(frozen=True)
class CandidatePair:
    """An ordered (head, tail) pair in one sentence, optionally with its gold label. A pair across adjacent
    sentences (``entities.sentence_window``) has their span as ``text``, from the first one's start."""

    text: str
    head: Mention
    tail: Mention
    doc_id: str = ""
    sentence_index: int = 0
    sentence_start: int = 0
    label: str | None = None
    id: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CandidatePair:
        return cls(
            text=data["text"],
            head=Mention(**data["head"]),
            tail=Mention(**data["tail"]),
            doc_id=data.get("doc_id", ""),
            sentence_index=int(data.get("sentence_index", 0)),
            sentence_start=int(data.get("sentence_start", 0)),
            label=data.get("label"),
            id=str(data.get("id", "")),
        )


@dataclass(frozen=True)
class LabelledPair:
    pair: CandidatePair
    label: str
    confidence: float
    scores: dict[str, float] = field(default_factory=dict, compare=False)
    reviewed: tuple[str, str] | None = None  # (by, at) when the label is a reviewer's, not the model's


@dataclass(frozen=True)
class Entity:
    name: str
    type: str

    @cached_property
    def key(self) -> str:
        """Computed once per entity: bulk loads ask for it several times per triple."""
        return entity_key(self.name, self.type)


@dataclass(frozen=True)
class Evidence:
    """One sentence supporting a triple. Offsets are relative to the document."""

    doc_id: str
    sentence_index: int
    sentence: str
    head_start: int
    head_end: int
    tail_start: int
    tail_end: int
    confidence: float
    model: str
    # The mentions as written: the edge's ends may be canonical entities that the document names otherwise
    # ("ESA" for the European Space Agency). Empty in evidence stored before entity resolution.
    head_text: str = ""
    tail_text: str = ""
    # a pronoun or description at an end: the name it was linked to, as written, and why ("pronoun", ...)
    head_refers_to: str = ""
    tail_refers_to: str = ""
    head_link: str = ""
    tail_link: str = ""
    sentence_start: int = -1  # the sentence's offset in the document (-1: not recorded)
    reviewed_by: str = ""  # set when a reviewer decided this label (kgbuild review)
    reviewed_at: str = ""

    def to_json(self) -> str:
        """Canonical JSON (sorted keys) so stores can compare and deduplicate evidence; computed once (bulk
        loads sort and write it, and ``asdict`` copies deeply)."""
        return self._json

    @cached_property
    def _json(self) -> str:
        """What ``json.dumps(fields, sort_keys=True, ensure_ascii=False)`` gives, without its generic machinery:
        a bulk load encodes one per edge, the largest share of the client's time (tests check the equality)."""
        return _EVIDENCE_JSON % tuple(_JSON_VALUE[type(value)](value) for value in map(self.__getattribute__,
                                                                                          _EVIDENCE_FIELDS))

    @classmethod
    def from_json(cls, text: str) -> Evidence:
        """A stored record, checked: a damaged or hand-edited one is a ``MalformedRecordError`` saying what is
        wrong, not a crash in whatever reads it next (an export, the review page)."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise MalformedRecordError(f"evidence record is not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise MalformedRecordError("evidence record is not a JSON object")
        return cls(**_evidence_fields(data))


def _json_number(value: float) -> str:
    return repr(value) if math.isfinite(value) else json.dumps(value)


def _json_string(value: str) -> str:
    return str(encode_basestring(value))  # json.dumps's own escaping for ensure_ascii=False


_EVIDENCE_FIELDS = sorted(f.name for f in fields(Evidence))
_EVIDENCE_JSON = "{" + ", ".join(f'"{name}": %s' for name in _EVIDENCE_FIELDS) + "}"
_JSON_VALUE: dict[type, Callable[[Any], str]] = defaultdict(lambda: json.dumps, {
    str: _json_string, int: repr, float: _json_number})
_EVIDENCE_TYPES = {f.name: str(f.type) for f in fields(Evidence)}  # "int", "float" or "str"
_EVIDENCE_REQUIRED = {f.name for f in fields(Evidence) if f.default is MISSING}
_JSON_TYPES: dict[str, tuple[type, ...]] = {"int": (int,), "float": (float, int), "str": (str,)}  # bool is neither
_ACCEPTED = {name: _JSON_TYPES[kind] for name, kind in _EVIDENCE_TYPES.items()}
_FLOATS = [name for name, kind in _EVIDENCE_TYPES.items() if kind == "float"]


def _evidence_fields(data: dict[str, Any]) -> dict[str, Any]:
    """A stored record's fields, each known and of its type (a float may be stored as an integer); cheap, as
    every export and merge reads every record."""
    if not (data.keys() <= _ACCEPTED.keys() and data.keys() >= _EVIDENCE_REQUIRED):
        unknown, missing = sorted(data.keys() - _ACCEPTED.keys()), sorted(_EVIDENCE_REQUIRED - data.keys())
        problem = f"has unknown fields: {', '.join(unknown)}" if unknown else f"lacks {', '.join(missing)}"
        raise MalformedRecordError(f"evidence record {problem}"[:200])
    for name, value in data.items():
        if type(value) not in _ACCEPTED[name]:
            raise MalformedRecordError(f"evidence record's {name} is not a {_EVIDENCE_TYPES[name]}")
    for name in _FLOATS:
        if type(data.get(name)) is int:
            data[name] = float(data[name])
    return data


ALIAS_REASONS = ("article", "acronym", "short_form", "similarity")
REFERENCE_REASONS = ("pronoun", "description")  # a link of one mention, listed and undone like an alias


@dataclass(frozen=True)
class Alias:
    """One resolution decision: ``spelling`` names the entity called ``canonical`` (same ``type``).

    ``doc_id`` scopes a decision found inside one document (acronym, short form, article); an empty
    ``doc_id`` applies everywhere (a cross-document similarity merge). ``undone`` keeps a split that a
    user asked for, so that no later run proposes the same merge again.
    """

    spelling: str
    type: str
    canonical: str
    reason: str
    score: float = 1.0
    doc_id: str = ""
    undone: bool = False

    @property
    def spelling_key(self) -> str:
        return entity_key(self.spelling, self.type)

    @property
    def canonical_key(self) -> str:
        return entity_key(self.canonical, self.type)

    @property
    def id(self) -> str:
        """One record per (spelling, canonical, document): rewriting a decision replaces it."""
        text = f"{self.spelling_key}\x1f{self.canonical_key}\x1f{self.doc_id}"
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]

    def to_row(self) -> dict[str, Any]:
        return {"id": self.id, **asdict(self)}

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Alias:
        return cls(**{f.name: row[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class Triple:
    head: Entity
    label: str
    tail: Entity
    evidence: Evidence

    @classmethod
    def from_labelled(cls, labelled: LabelledPair, model: str) -> Triple:
        pair = labelled.pair
        offset = pair.sentence_start
        return cls(
            head=Entity(pair.head.name, pair.head.type),
            label=labelled.label,
            tail=Entity(pair.tail.name, pair.tail.type),
            evidence=Evidence(
                doc_id=pair.doc_id,
                sentence_index=pair.sentence_index,
                sentence=pair.text,
                head_start=offset + pair.head.start,
                head_end=offset + pair.head.end,
                tail_start=offset + pair.tail.start,
                tail_end=offset + pair.tail.end,
                confidence=round(float(labelled.confidence), 6),
                model=model,
                head_text=pair.head.text,
                tail_text=pair.tail.text,
                head_refers_to=pair.head.refers_to,
                tail_refers_to=pair.tail.refers_to,
                head_link=pair.head.link,
                tail_link=pair.tail.link,
                sentence_start=offset,
                reviewed_by=labelled.reviewed[0] if labelled.reviewed else "",
                reviewed_at=labelled.reviewed[1] if labelled.reviewed else "",
            ),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "head": {"name": self.head.name, "type": self.head.type, "key": self.head.key},
            "label": self.label,
            "tail": {"name": self.tail.name, "type": self.tail.type, "key": self.tail.key},
            "evidence": asdict(self.evidence),
        }
