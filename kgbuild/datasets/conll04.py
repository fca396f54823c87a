"""CoNLL04 as distributed with SpERT: JSON lists of ``tokens``, BILOU ``tags`` and ``relations``.

``relations[i].head``/``tail`` index the sentence's entities in order of appearance. Every other
ordered entity pair whose types the schema allows becomes a ``no_relation`` example, so the
classifier sees the negatives it will meet in running text.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kgbuild.datasets.common import TokenText, read_json
from kgbuild.errors import DatasetError
from kgbuild.schema import RelationSchema
from kgbuild.types import NO_RELATION, CandidatePair, Mention

TypeMap = Callable[[str], str | None]


def bilou_spans(tags: list[str]) -> list[tuple[int, int, str]]:
    """Entity token spans ``[start, end)`` with their type, in order of appearance."""
    spans: list[tuple[int, int, str]] = []
    start: int | None = None
    for index, tag in enumerate(tags):
        prefix, _, type_ = tag.partition("-")
        if prefix == "U":
            spans.append((index, index + 1, type_))
        elif prefix == "B":
            start = index
        elif prefix == "L":
            if start is None:
                raise ValueError(f"tag {index} ends an entity that never began")
            spans.append((start, index + 1, type_))
            start = None
    return spans


def load_conll04(path: Path, split: str = "train", schema: RelationSchema | None = None,
                 type_map: TypeMap | None = None, label_map: dict[str, str] | None = None) -> list[CandidatePair]:
    """Load one split; ``type_map``/``label_map`` project it onto another schema (e.g. the default one)."""
    schema = schema or RelationSchema.bundled("conll04")
    file = path if path.is_file() else path / f"conll04_{split}.json"
    records = read_json(file)
    if not isinstance(records, list):
        raise DatasetError(f"{file}: expected a JSON list of sentences")
    examples: list[CandidatePair] = []
    for number, record in enumerate(records):
        try:
            text = TokenText(record["tokens"])
            spans = bilou_spans(record["tags"])
            gold = {(r["head"], r["tail"]): r["type"] for r in record["relations"]}
        except (KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"{file}: sentence {number}: malformed record ({exc})") from exc
        if any(not (0 <= h < len(spans) and 0 <= t < len(spans)) for h, t in gold):
            raise DatasetError(f"{file}: sentence {number}: a relation points past the sentence's entities")
        mentions: list[Mention | None] = []
        for start, end, type_ in spans:
            mapped = type_map(type_) if type_map else type_
            mentions.append(text.mention(start, end, mapped) if mapped else None)
        sentence_id = str(record.get("orig_id", number))
        for i, head in enumerate(mentions):
            for j, tail in enumerate(mentions):
                if i == j or head is None or tail is None or not schema.allows(head.type, tail.type):
                    continue
                label = gold.get((i, j), NO_RELATION)
                if label_map is not None and label != NO_RELATION:
                    label = label_map[label]
                examples.append(CandidatePair(text=text.text, head=head, tail=tail, label=label,
                                              id=f"{sentence_id}:{i}:{j}"))
    return examples
