"""The correction bank: reviewers' decisions, one JSON line each, appended and never rewritten.

A decision teaches by example. The next run retrieves corrected sentences next to the training bank
(preferred at equal similarity), and a pair that was reviewed keeps its reviewed label instead of
being labelled again. Lines carry a ``format`` number so the bank can outlive this code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from kgbuild.errors import BankError
from kgbuild.types import CandidatePair, Mention

FORMAT = 1
DECISIONS = ("accept", "relabel", "reject", "wrong_entity")


@dataclass(frozen=True)
class Correction:
    """One decision on one triple. ``label`` is the label after review (``no_relation`` when the reviewer
    says the sentence states none); ``wrong`` names a mistaken entity span (``head``/``tail``)."""

    decision: str
    sentence: str
    head: str
    head_type: str
    head_start: int  # offsets within the sentence
    head_end: int
    tail: str
    tail_type: str
    tail_start: int
    tail_end: int
    old_label: str
    label: str
    doc_id: str
    model: str
    reviewed_by: str
    reviewed_at: str
    wrong: str = ""
    format: int = FORMAT

    @property
    def pair_key(self) -> tuple[str, int, int, int, int]:
        return (self.sentence, self.head_start, self.head_end, self.tail_start, self.tail_end)

    def example(self) -> CandidatePair | None:
        """A labelled example for retrieval; None when the entities themselves were wrong."""
        if self.decision == "wrong_entity":
            return None
        return CandidatePair(self.sentence, Mention(self.head, self.head_type, self.head_start, self.head_end),
                             Mention(self.tail, self.tail_type, self.tail_start, self.tail_end), label=self.label,
                             id=f"correction:{self.reviewed_at}")


def pair_key(pair: CandidatePair) -> tuple[str, int, int, int, int]:
    return (pair.text, pair.head.start, pair.head.end, pair.tail.start, pair.tail.end)


def append_correction(path: Path, correction: Correction) -> None:
    """One line, flushed to disk before the graph changes, so no decision is ever lost."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(asdict(correction), ensure_ascii=False, sort_keys=True)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(line + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def read_corrections(path: Path | None) -> list[Correction]:
    """Every decision in file order (a later decision on the same pair wins where it matters)."""
    if path is None or not path.exists():
        return []
    names = {f.name for f in fields(Correction)}
    corrections = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if data.get("format", FORMAT) > FORMAT:
                raise BankError(f"{path}:{number}: correction format {data['format']} is newer than this kgbuild")
            corrections.append(Correction(**{k: v for k, v in data.items() if k in names}))
        except (json.JSONDecodeError, TypeError) as exc:
            raise BankError(f"{path}:{number}: not a correction line: {exc}") from exc
    return corrections


def reviewed_labels(corrections: Iterable[Correction]) -> dict[tuple[str, int, int, int, int], Correction]:
    """The last decision per pair: these pairs keep their reviewed label and are not labelled again."""
    return {c.pair_key: c for c in corrections}


def correction_examples(corrections: Sequence[Correction]) -> list[CandidatePair]:
    """The retrieval examples the decisions teach, latest decision per pair."""
    latest = reviewed_labels(corrections)
    return [example for c in latest.values() if (example := c.example()) is not None]
