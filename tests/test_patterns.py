"""A user's gazetteer (``entities.patterns``): spaCy's entity ruler before the NER, its names found as typed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import spacy

from kgbuild.config import EntitiesConfig, load_pipeline
from kgbuild.entities.spacy_ner import PATTERNS_PIPE, add_patterns, annotator_for
from kgbuild.errors import ConfigError
from kgbuild.types import Document

TEXT = "Ana Ruiz joined qorvane labs in Oslo. The qorvane labs team grew."


@pytest.fixture
def fresh_nlp(nlp: Any) -> Any:
    """A copy of the session's model, so the ruler added here does not leak into other tests."""
    return spacy.load(nlp.path) if getattr(nlp, "path", None) else spacy.blank("en")


def mentions(annotator: Any) -> set[tuple[str, str]]:
    [(_, sentences)] = list(annotator.annotate([Document("d", "d.txt", "h", TEXT)]))
    return {(m.text, m.type) for s in sentences for m in s.mentions if not m.link}


def write(path: Path, *lines: object) -> Path:
    path.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    return path


def test_gazetteer_names_are_found_with_their_type(fresh_nlp: Any, tmp_path: Path) -> None:
    without = mentions(annotator_for(EntitiesConfig(), fresh_nlp))
    assert ("qorvane labs", "ORG") not in without  # lower case, unknown: spaCy's NER misses it
    patterns = write(tmp_path / "names.jsonl", {"label": "ORG", "pattern": "qorvane labs"},
                     {"label": "ORG", "pattern": [{"LOWER": "zyx"}]})
    entities = EntitiesConfig(patterns=str(patterns))
    found = mentions(annotator_for(entities, fresh_nlp))
    assert ("qorvane labs", "ORG") in found and ("Oslo", "GPE") in found  # the NER still finds the rest
    annotator_for(entities, fresh_nlp)  # a second annotator over the same model adds no second ruler
    assert fresh_nlp.pipe_names.count(PATTERNS_PIPE) == 1
    assert fresh_nlp.pipe_names.index(PATTERNS_PIPE) < fresh_nlp.pipe_names.index("ner")
    other = write(tmp_path / "other.jsonl", {"label": "ORG", "pattern": "ana ruiz"})  # another file replaces it
    assert ("qorvane labs", "ORG") not in mentions(annotator_for(EntitiesConfig(patterns=str(other)), fresh_nlp))
    assert mentions(annotator_for(EntitiesConfig(), fresh_nlp)) == without  # no patterns: the ruler goes


@pytest.mark.parametrize("content, message", [
    (None, "file not found"),
    (b"\xff\xfe not text", "not JSON lines"),
    (b'{"label": "ORG"}', "line 1: want an object with 'label' and 'pattern'"),
    (b'{"label": "ORG", "pattern": [{"NOT_AN_ATTR": "x"}]}', "entities.patterns: "),
])
def test_a_bad_patterns_file_is_one_clear_error(fresh_nlp: Any, tmp_path: Path, content: bytes | None,
                                                message: str) -> None:
    path = tmp_path / "names.jsonl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        add_patterns(fresh_nlp, path)
    assert PATTERNS_PIPE not in fresh_nlp.pipe_names


def test_the_patterns_path_is_relative_to_the_pipeline_file(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    pipeline = tmp_path / "conf" / "p.yaml"
    pipeline.write_text("entities:\n  patterns: names.jsonl\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="entities.patterns: file not found"):  # said at load, not in a worker
        load_pipeline(pipeline)
    write(tmp_path / "conf" / "names.jsonl", {"label": "ORG", "pattern": "qorvane labs"})
    assert load_pipeline(pipeline).entities.patterns == str(tmp_path / "conf" / "names.jsonl")
