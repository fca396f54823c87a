"""Relation schemas: the label set, what each label means, and which entity types it joins.

A schema is a YAML file so that users can add labels without code. The same format
expresses the default spaCy-type schema, TACRED's 41 relations and SemEval's 19
directed labels (where any entity type is allowed).
"""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kgbuild.assets import BUNDLED, resolve_asset, validate_yaml
from kgbuild.errors import SchemaError
from kgbuild.types import NO_RELATION

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class LabelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    description: str
    head_types: list[str] | None = None  # None: any type
    tail_types: list[str] | None = None


class RelationSchema(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    no_relation: str = NO_RELATION
    no_relation_description: str = "none of the relations above holds between head and tail"
    labels: dict[str, LabelSpec] = Field(min_length=1)
    # spaCy types it often confuses: a mention of type K may also fill a slot of the listed types. The pair
    # is then offered, its prompt still shows spaCy's type, and the model decides (``kgbuild eval --dataset
    # docs`` counts the pairs the plain rule loses as "type rejected").
    type_map: dict[str, list[str]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> RelationSchema:
        if self.no_relation in self.labels:
            raise ValueError(f"'{self.no_relation}' is implicit; do not list it under labels")
        types = [relationship_type(label) for label in self.labels]
        if len(set(types)) != len(types):
            raise ValueError("two labels sanitise to the same relationship type")
        return self

    @property
    def all_labels(self) -> list[str]:
        """Every label the generator may answer, ``no_relation`` last."""
        return [*self.labels, self.no_relation]

    @cached_property
    def relationship_types(self) -> dict[str, str]:
        return {label: relationship_type(label) for label in self.labels}

    def allows(self, head_type: str, tail_type: str) -> bool:
        """Whether any label may join this ordered pair of entity types (``type_map`` included)."""
        return bool(self.allowed_labels(head_type, tail_type))

    def allowed_labels(self, head_type: str, tail_type: str) -> list[str]:
        heads, tails = self._stands_for(head_type), self._stands_for(tail_type)
        return [label for label, s in self.labels.items()
                if any(_type_ok(s.head_types, h) for h in heads) and any(_type_ok(s.tail_types, t) for t in tails)]

    def _stands_for(self, type_: str) -> list[str]:
        return [type_, *self.type_map.get(type_, ())]

    def label_lines(self) -> list[str]:
        lines = [f"- {label}: {spec.description}" for label, spec in self.labels.items()]
        lines.append(f"- {self.no_relation}: {self.no_relation_description}")
        return lines

    @classmethod
    def load(cls, path: str | Path) -> RelationSchema:
        """Load a schema file; packaged schemas are named ``bundled:NAME`` (see :mod:`kgbuild.assets`)."""
        file = resolve_asset("schema", path)
        if not file.is_file():
            hint = f"; packaged schemas are named {BUNDLED}NAME" if not file.suffix else ""
            raise SchemaError(f"relation schema file not found: {file}{hint}")
        return validate_yaml(cls, file, SchemaError, "a relation schema must be a mapping with a name and labels")

    @classmethod
    def bundled(cls, name: str) -> RelationSchema:
        """A schema shipped with kgbuild (``default``, ``semeval``, ``tacred``, ...)."""
        return cls.load(f"{BUNDLED}{name}")

    def save(self, path: Path) -> None:
        data = self.model_dump(mode="json")
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _type_ok(allowed: list[str] | None, type_: str) -> bool:
    return allowed is None or type_ in allowed


def relationship_type(label: str) -> str:
    """Graph relationship type for a schema label: upper-case identifier, never user text.

    ``per:employee_of`` → ``PER_EMPLOYEE_OF``; ``Cause-Effect(e1,e2)`` → ``CAUSE_EFFECT_E1_E2``.
    """
    cleaned = re.sub(r"[^A-Za-z0-9]+", "_", label).strip("_").upper()
    if not cleaned or cleaned[0].isdigit():
        cleaned = f"REL_{cleaned}"
    if not _IDENTIFIER.match(cleaned):  # pragma: no cover - guarded by the regex above
        raise ValueError(f"cannot make a relationship type from label {label!r}")
    return cleaned
