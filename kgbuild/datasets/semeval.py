"""SemEval-2010 Task 8, official format: ``id<TAB>"sentence with <e1>..</e1> <e2>..</e2>"``, label, Comment.

e1 is always the head and e2 the tail; direction lives in the label (``Cause-Effect(e2,e1)``).
Works for TRAIN_FILE.TXT and TEST_FILE_FULL.TXT; a file without label lines (TEST_FILE.txt)
loads with label ``None`` and cannot be scored.
"""

from __future__ import annotations

import re
from pathlib import Path

from kgbuild.datasets.common import read_text
from kgbuild.errors import DatasetError
from kgbuild.types import CandidatePair, Mention

NOMINAL = "NOMINAL"
_LINE = re.compile(r'^(\d+)\t"(.*)"\s*$')
_MARKED = re.compile(r"<e1>(.*?)</e1>|<e2>(.*?)</e2>")


def parse_marked(sentence: str) -> tuple[str, Mention, Mention]:
    """Strip the entity markers, returning the clean sentence and the e1/e2 character spans."""
    text_parts: list[str] = []
    spans: dict[str, Mention] = {}
    position = 0
    last = 0
    for match in _MARKED.finditer(sentence):
        before = sentence[last:match.start()]
        text_parts.append(before)
        position += len(before)
        name = "e1" if match.group(1) is not None else "e2"
        inner = match.group(1) if name == "e1" else match.group(2)
        spans[name] = Mention(inner, NOMINAL, position, position + len(inner))
        text_parts.append(inner)
        position += len(inner)
        last = match.end()
    text_parts.append(sentence[last:])
    if set(spans) != {"e1", "e2"}:
        raise ValueError("the sentence needs exactly one <e1>..</e1> and one <e2>..</e2>")
    return "".join(text_parts), spans["e1"], spans["e2"]


def load_semeval(path: Path, split: str = "train") -> list[CandidatePair]:
    """``path`` is a SemEval file, or a folder holding TRAIN_FILE.TXT / TEST_FILE_FULL.TXT."""
    file = _split_file(path, split)
    lines = read_text(file).splitlines()
    examples: list[CandidatePair] = []
    index = 0
    while index < len(lines):
        line = lines[index].strip("\ufeff")
        if not line.strip():
            index += 1
            continue
        match = _LINE.match(line)
        if match is None:
            raise DatasetError(f"{file}:{index + 1}: expected 'id<TAB>\"sentence\"', got {line[:60]!r}")
        sentence_id, marked = match.groups()
        try:
            text, head, tail = parse_marked(marked)
        except ValueError as exc:
            raise DatasetError(f"{file}:{index + 1}: sentence {sentence_id}: {exc}") from exc
        label = None
        following = lines[index + 1].strip() if index + 1 < len(lines) else ""
        if following and not following.startswith("Comment") and not _LINE.match(following):
            label = following
            index += 1
        examples.append(CandidatePair(text=text, head=head, tail=tail, label=label, id=sentence_id))
        index += 1
        while index < len(lines) and lines[index].startswith("Comment"):
            index += 1
    if not examples:
        raise DatasetError(f"{file}: no SemEval sentences found")
    return examples


def _split_file(path: Path, split: str) -> Path:
    if path.is_file():
        return path
    names = {"train": ["TRAIN_FILE.TXT", "TRAIN_FILE.txt"],
             "test": ["TEST_FILE_FULL.TXT", "TEST_FILE_FULL.txt", "TEST_FILE.TXT", "TEST_FILE.txt"]}
    for name in names.get(split, []):
        for candidate in (path / name, path / "SemEval2010_task8_training" / name,
                          path / "SemEval2010_task8_testing_keys" / name):
            if candidate.is_file():
                return candidate
    raise DatasetError(f"no SemEval {split} file under {path} (expected one of {names.get(split, [])})")
