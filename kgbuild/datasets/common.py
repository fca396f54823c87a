"""Shared pieces of the loaders: errors that name the file, and tokens → text with char offsets."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kgbuild.errors import DatasetError
from kgbuild.types import Mention

PTB_BRACKETS = {"-LRB-": "(", "-RRB-": ")", "-LSB-": "[", "-RSB-": "]", "-LCB-": "{", "-RCB-": "}"}


def read_json(path: Path) -> Any:
    if not path.is_file():
        raise DatasetError(f"dataset file not found: {path}")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from exc


def read_text(path: Path) -> str:
    if not path.is_file():
        raise DatasetError(f"dataset file not found: {path}")
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DatasetError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc


class TokenText:
    """Tokens joined by single spaces, with the character span of any token range."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = [PTB_BRACKETS.get(t, t) for t in tokens]
        self.starts: list[int] = []
        position = 0
        for token in self.tokens:
            self.starts.append(position)
            position += len(token) + 1
        self.text = " ".join(self.tokens)

    def mention(self, start: int, end: int, type_: str) -> Mention:
        """Mention for tokens ``start`` (inclusive) to ``end`` (exclusive)."""
        if not 0 <= start < end <= len(self.tokens):
            raise IndexError(f"token span [{start}, {end}) outside a sentence of {len(self.tokens)} tokens")
        char_start = self.starts[start]
        char_end = self.starts[end - 1] + len(self.tokens[end - 1])
        return Mention(self.text[char_start:char_end], type_, char_start, char_end)
