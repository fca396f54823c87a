"""The one place where prompts are built, for ingest, training and evaluation alike.

Training feeds ``static + query`` followed by the label tokens; inference scores the label
tokens after the very same text, so the two can never drift apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Template

import yaml

from kgbuild.assets import resolve_asset
from kgbuild.errors import PromptError
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair


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
        text = path.read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        try:
            template = cls(static=data["static"], example=data["example"], query=data["query"])
        except (KeyError, TypeError) as exc:
            raise PromptError(f"prompt template {spec} needs 'static', 'example' and 'query' parts") from exc
        template.render_static_check()
        return template

    def render_static_check(self) -> None:
        for part in (self.static, self.example, self.query):
            Template(part).get_identifiers()  # raises ValueError on malformed placeholders

    def to_yaml(self) -> str:
        return yaml.safe_dump({"static": self.static, "example": self.example, "query": self.query},
                              sort_keys=False, allow_unicode=True)


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

    def query(self, pair: CandidatePair, examples: Sequence[CandidatePair]) -> str:
        """The pair-dependent part; it ends right where the label begins."""
        rendered = "".join(self.example(e) for e in examples)
        return Template(self.template.query).substitute(_pair_fields(pair), examples=rendered).rstrip()

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
