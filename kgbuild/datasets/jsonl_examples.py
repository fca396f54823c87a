"""Your own labelled examples, one JSON object per line (``kgbuild train --examples FILE``):

    {"text": "Acme Corp bought Globex in 2019.", "head": "Acme Corp", "head_type": "ORG",
     "tail": "Globex", "tail_type": "ORG", "label": "acquired"}

``head_start`` / ``tail_start`` (character offsets in ``text``) pick the mention when a name occurs more than
once; without them the first occurrence is used. ``label`` is a label of the pipeline's schema, or its
``no_relation`` (examples of pairs that hold no relation teach the model when to say so). The review page's
correction bank has the same fields (``sentence`` for ``text``), so it can be passed as it is: a decision
that the entities themselves were wrong (``wrong_entity``) is not an example and is left out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kgbuild.errors import DatasetError
from kgbuild.types import CandidatePair, Mention


def load_jsonl_examples(path: Path, split: str = "train") -> list[CandidatePair]:
    """Every example of the file; it has one split (the dev split is carved from it with a seed)."""
    if split != "train":
        raise DatasetError(f"{path}: an examples file has one split, 'train' (dev is carved from it), not {split!r}")
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}:{number}: not JSON: {exc.msg}") from exc
        if not isinstance(record, dict):
            raise DatasetError(f"{path}:{number}: expected a JSON object")
        if record.get("decision") == "wrong_entity":
            continue
        examples.append(_example(path, number, record))
    if not examples:
        raise DatasetError(f"{path}: no examples")
    return examples


def _example(path: Path, number: int, record: dict[str, Any]) -> CandidatePair:
    text = record.get("text", record.get("sentence"))
    keys = ("head", "head_type", "tail", "tail_type", "label")
    missing = [key for key in keys if not isinstance(record.get(key), str)]
    if not isinstance(text, str):
        missing.insert(0, "text")
    if missing or not isinstance(text, str):
        raise DatasetError(f"{path}:{number}: needs text fields {', '.join(missing)}")
    head = _mention(path, number, text, record, "head")
    tail = _mention(path, number, text, record, "tail")
    return CandidatePair(text, head, tail, doc_id=path.name, sentence_index=number - 1, label=record["label"],
                         id=f"{path.name}:{number}")


def _mention(path: Path, number: int, text: str, record: dict[str, Any], end: str) -> Mention:
    name, start = record[end], record.get(f"{end}_start")
    if start is None:
        start = text.find(name)
    if not isinstance(start, int) or start < 0 or text[start:start + len(name)] != name:
        raise DatasetError(f"{path}:{number}: {end} {name!r} is not in the text" +
                           (f" at {start}" if isinstance(start, int) and start >= 0 else ""))
    return Mention(name, record[f"{end}_type"], start, start + len(name))
