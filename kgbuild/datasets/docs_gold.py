"""Gold triples for whole documents: what each document states, for end-to-end evaluation.

The format (``examples/eval/gold.yaml``) names each document by a path relative to the gold file,
its entities with their spaCy type and aliases, and the triples it states::

    documents:
      - path: ../docs/01-acme-ceo.txt
        entities:
          Maria Delgado: {type: PERSON, aliases: [Delgado]}
          Acme Robotics: {type: ORG}
        triples:
          - [Maria Delgado, works_for, Acme Robotics]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kgbuild.errors import DatasetError
from kgbuild.schema import RelationSchema
from kgbuild.types import name_key

GOLD_FILE = "gold.yaml"
entity_name_key = name_key  # gold names match the way the graph's keys do

class GoldEntity(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: str
    aliases: list[str] = Field(default_factory=list)


class GoldDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")
    path: str
    entities: dict[str, GoldEntity] = Field(default_factory=dict)
    triples: list[tuple[str, str, str]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_entities(self) -> GoldDocument:
        for head, _, tail in self.triples:
            for name in (head, tail):
                if name not in self.entities:
                    raise ValueError(f"{self.path}: '{name}' is in a triple but not under entities")
        return self

    def canonical(self, mention: str) -> str:
        """The canonical name a mention refers to, or the mention's own key when it names no gold entity."""
        key = entity_name_key(mention)
        for name, entity in self.entities.items():
            if key in {entity_name_key(n) for n in (name, *entity.aliases)}:
                return entity_name_key(name)
        return key

    def gold_type(self, canonical: str) -> str | None:
        for name, entity in self.entities.items():
            if entity_name_key(name) == canonical:
                return entity.type
        return None


class GoldFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    documents: list[GoldDocument] = Field(min_length=1)


@dataclass(frozen=True)
class GoldSet:
    """The parsed gold file and where its documents are."""

    source: Path
    documents: list[GoldDocument]

    def document_path(self, document: GoldDocument) -> Path:
        return (self.source.parent / document.path).resolve()


def load_gold(path: Path, schema: RelationSchema) -> GoldSet:
    """``path`` is a gold file or a folder holding ``gold.yaml``; every label and document is checked."""
    source = path / GOLD_FILE if path.is_dir() else path
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
        gold = GoldFile.model_validate(raw)
    except OSError as exc:
        raise DatasetError(f"cannot read the gold file {source}: {exc.strerror or exc}") from exc
    except (yaml.YAMLError, ValidationError) as exc:
        raise DatasetError(f"invalid gold file {source}: {exc}") from exc
    gold_set = GoldSet(source.resolve(), gold.documents)
    for document in gold.documents:
        unknown = {label for _, label, _ in document.triples if label not in schema.labels}
        if unknown:
            raise DatasetError(f"{source}: {document.path} uses labels not in schema '{schema.name}': "
                               f"{sorted(unknown)}")
        if not gold_set.document_path(document).is_file():
            raise DatasetError(f"{source}: document not found: {document.path}")
    return gold_set
