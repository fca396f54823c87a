"""TACRED JSON, and the TACREV and Re-TACRED relabellings of it.

* TACRED: ``{split}.json`` lists of ``{id, token, subj_start, subj_end, obj_start, obj_end,
  subj_type, obj_type, relation}`` with inclusive token indexes (LDC licence; bring your own).
* TACREV: TACRED with the dev/test patch files (``[{id, relation}]``) applied; train unchanged.
* Re-TACRED: every split relabelled by ``{split}_id2label.json``; ids absent from that file are
  dropped, as in the Re-TACRED release.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kgbuild.datasets.common import TokenText, read_json
from kgbuild.errors import DatasetError
from kgbuild.training_config import data_root
from kgbuild.types import CandidatePair

TACREV_DIR, RETACRED_DIR = "tacrev-patch", "re-tacred-labels"
TACREV_ENV, RETACRED_ENV = "KGBUILD_TACREV_PATCH", "KGBUILD_RETACRED_LABELS"
_FIELDS = ("id", "token", "subj_start", "subj_end", "obj_start", "obj_end", "subj_type", "obj_type", "relation")


def _split_file(path: Path, split: str) -> Path:
    return path if path.is_file() else path / f"{split}.json"


def load_tacred(path: Path, split: str = "train") -> list[CandidatePair]:
    file = _split_file(path, split)
    records = read_json(file)
    if not isinstance(records, list):
        raise DatasetError(f"{file}: expected a JSON list of TACRED records")
    return [_example(file, number, record) for number, record in enumerate(records)]


def _example(file: Path, number: int, record: Any) -> CandidatePair:
    if not isinstance(record, dict) or any(key not in record for key in _FIELDS):
        missing = [k for k in _FIELDS if not isinstance(record, dict) or k not in record]
        raise DatasetError(f"{file}: record {number} lacks TACRED fields {missing}")
    try:
        text = TokenText(record["token"])
        head = text.mention(record["subj_start"], record["subj_end"] + 1, record["subj_type"])
        tail = text.mention(record["obj_start"], record["obj_end"] + 1, record["obj_type"])
    except (IndexError, TypeError) as exc:
        raise DatasetError(f"{file}: record {number} (id {record.get('id')}): {exc}") from exc
    return CandidatePair(text=text.text, head=head, tail=tail, label=record["relation"], id=str(record["id"]))


def tacrev_patch(split: str, patch_dir: Path | None = None) -> dict[str, str]:
    if split == "train":
        return {}
    file = (patch_dir or data_root() / TACREV_DIR) / f"{split}_patch.json"
    rows = read_json(file)
    if not isinstance(rows, list) or not all(isinstance(r, dict) and {"id", "relation"} <= set(r) for r in rows):
        raise DatasetError(f"{file}: expected a list of {{id, relation}} objects")
    return {str(r["id"]): str(r["relation"]) for r in rows}


def find_patch_dir(data: Path, name: str, env: str) -> Path:
    """Where the patch files live: ``$env``, else a ``name`` folder beside or inside the TACRED data, else
    one in the data folder (``KGBUILD_DATA``, see :func:`~kgbuild.training_config.data_root`)."""
    folder = data if data.is_dir() else data.parent
    explicit = os.environ.get(env)
    candidates = [Path(explicit)] if explicit else [folder / name, folder.parent / name, data_root() / name]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise DatasetError(f"{name} files not found (looked in {', '.join(map(str, candidates))}); set {env}")


def load_tacrev(path: Path, split: str = "train", patch_dir: Path | None = None) -> list[CandidatePair]:
    patch = tacrev_patch(split, patch_dir or find_patch_dir(path, TACREV_DIR, TACREV_ENV))
    return [_relabel(e, patch[e.id]) if e.id in patch else e for e in load_tacred(path, split)]


def retacred_labels(split: str, labels_dir: Path | None = None) -> dict[str, str]:
    file = (labels_dir or data_root() / RETACRED_DIR) / f"{split}_id2label.json"
    mapping = read_json(file)
    if not isinstance(mapping, dict):
        raise DatasetError(f"{file}: expected an object mapping TACRED ids to relations")
    return {str(k): str(v) for k, v in mapping.items()}


def load_retacred(path: Path, split: str = "train", labels_dir: Path | None = None) -> list[CandidatePair]:
    labels = retacred_labels(split, labels_dir or find_patch_dir(path, RETACRED_DIR, RETACRED_ENV))
    return [_relabel(e, labels[e.id]) for e in load_tacred(path, split) if e.id in labels]


def _relabel(example: CandidatePair, label: str) -> CandidatePair:
    return CandidatePair(text=example.text, head=example.head, tail=example.tail, doc_id=example.doc_id,
                         sentence_index=example.sentence_index, sentence_start=example.sentence_start,
                         label=label, id=example.id)
