"""Prompt text from a template: the static part, then per sentence, then per pair.

A template's ``query`` is read in two parts: everything before the first line that names the
head or the tail depends only on the sentence (its retrieved examples and the sentence itself),
and the rest depends on the pair. All pairs of one sentence share the first part, so the scorer
encodes it once per sentence; the text is the same as if each pair had its own copy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from string import Template

import yaml

from kgbuild.assets import read_yaml_mapping, resolve_asset
from kgbuild.errors import PromptError
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair

PAIR_FIELDS = frozenset({"head", "head_type", "tail", "tail_type"})
SENTENCE_FIELDS = frozenset({"sentence", "examples"})


@dataclass(frozen=True)
class PromptTemplate:
    static: str
    example: str
    query: str

    @classmethod
    def load(cls, spec: str | Path = "bundled:rag") -> PromptTemplate:
        """A template file, or a packaged one named ``bundled:NAME`` (see :mod:`kgbuild.assets`)."""
        path = resolve_asset("prompt", spec)
        if not path.is_file():
            raise PromptError(f"prompt template file not found: {path}")
        parts = "needs 'static', 'example' and 'query' parts"
        data = read_yaml_mapping(path, PromptError, f"a prompt template {parts}")
        try:
            template = cls(static=data["static"], example=data["example"], query=data["query"])
        except (KeyError, TypeError) as exc:
            raise PromptError(f"prompt template {spec} {parts}") from exc
        template.render_static_check()
        return template

    def render_static_check(self) -> None:
        for part in (self.static, self.example, self.query):
            Template(part).get_identifiers()  # raises ValueError on malformed placeholders
        _ = self.query_parts

    @cached_property
    def query_parts(self) -> tuple[str, str]:
        """``query`` split into its sentence part and its pair part (see the module docstring)."""
        lines = self.query.splitlines(keepends=True)
        start = next((i for i, line in enumerate(lines) if PAIR_FIELDS & set(Template(line).get_identifiers())),
                     None)
        if start is None:
            raise PromptError("the prompt template's 'query' must name the head or the tail ($head, $tail)")
        sentence, pair = "".join(lines[:start]), "".join(lines[start:])
        if SENTENCE_FIELDS & set(Template(pair).get_identifiers()):
            raise PromptError("the prompt template's 'query' must put $sentence and $examples before the lines "
                              "that name the head and the tail, so that pairs can share their sentence")
        return sentence, pair

    def to_yaml(self) -> str:
        return yaml.safe_dump({"static": self.static, "example": self.example, "query": self.query},
                              sort_keys=False, allow_unicode=True)


@dataclass(frozen=True)
class PairPrompt:
    """A pair's prompt after the static prefix, in the two parts the scorer encodes separately."""

    sentence: str  # retrieved examples + query sentence: identical for every pair of one sentence
    pair: str  # head and tail lines; ends where the label begins

    @property
    def text(self) -> str:
        return self.sentence + self.pair


@dataclass(frozen=True)
class PromptBuilder:
    template: PromptTemplate
    schema: RelationSchema

    @property
    def static(self) -> str:
        """The pair-independent prefix whose KV cache the generator computes once."""
        return Template(self.template.static).substitute(relation_types="\n".join(self.schema.label_lines()))

    def example(self, example: CandidatePair) -> str:
        return Template(self.template.example).substitute(
            _pair_fields(example), label=example.label or self.schema.no_relation
        )

    def sentence_part(self, sentence: str, examples: Sequence[CandidatePair]) -> str:
        """What every pair of one sentence shares: the retrieved examples and the query sentence."""
        rendered = "".join(self.example(e) for e in examples)
        return Template(self.template.query_parts[0]).substitute(sentence=sentence, examples=rendered)

    def pair_part(self, pair: CandidatePair) -> str:
        """What one pair adds after its sentence; it ends right where the label begins."""
        return Template(self.template.query_parts[1]).substitute(_pair_fields(pair)).rstrip()

    def query(self, pair: CandidatePair, examples: Sequence[CandidatePair]) -> str:
        """The whole pair-dependent text after the static prefix."""
        return self.sentence_part(pair.text, examples) + self.pair_part(pair)

    def full(self, pair: CandidatePair, examples: Sequence[CandidatePair]) -> str:
        return self.static + self.query(pair, examples)


def label_text(label: str) -> str:
    """What follows ``Relation:`` for a label; the leading space matches how the LM tokenises it."""
    return f" {label}"


def _pair_fields(pair: CandidatePair) -> dict[str, str]:
    return {
        "sentence": pair.text,
        "head": pair.head.text,
        "head_type": pair.head.type,
        "tail": pair.tail.text,
        "tail_type": pair.tail.type,
    }
