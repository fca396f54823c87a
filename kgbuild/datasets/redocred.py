"""Re-DocRED documents → intra-sentence relation instances (+ negatives from unrelated pairs).

A label (h, t, r) yields one example for each mention pair of h and t that share a sentence.
Other same-sentence mention pairs of entities with no relation at all become ``no_relation``;
a pair with a true relation the target schema lacks is left out rather than called negative.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from kgbuild.datasets.common import TokenText, read_json
from kgbuild.errors import DatasetError
from kgbuild.types import NO_RELATION, CandidatePair

TypeMap = Callable[[str], str | None]


def relation_names(path: Path) -> dict[str, str]:
    folder = path if path.is_dir() else path.parent
    names = read_json(folder / "rel_info.json")
    if not isinstance(names, dict):
        raise DatasetError(f"{folder / 'rel_info.json'}: expected an object of relation id → name")
    return {str(k): str(v) for k, v in names.items()}


def load_redocred(path: Path, split: str = "dev", relation_map: dict[str, str] | None = None,
                  type_map: TypeMap | None = None,
                  keep: Callable[[str, str], bool] | None = None) -> list[CandidatePair]:
    """Load ``{split}_revised.json``; by default labels are Re-DocRED's relation names.

    ``relation_map`` maps Wikidata ids to target labels (unmapped true relations are dropped);
    ``type_map`` maps entity types (None drops the mention); ``keep(head_type, tail_type)``
    filters pairs, e.g. by what a target schema allows.
    """
    file = path if path.is_file() else path / f"{split}_revised.json"
    documents = read_json(file)
    if not isinstance(documents, list):
        raise DatasetError(f"{file}: expected a JSON list of documents")
    labels_by_id = relation_map if relation_map is not None else relation_names(file)
    examples: list[CandidatePair] = []
    seen: set[tuple[str, int, int, int]] = set()
    for number, doc in enumerate(documents):
        try:
            title, sentences, vertices = doc["title"], doc["sents"], doc["vertexSet"]
            gold: dict[tuple[int, int], set[str]] = {}
            for label in doc.get("labels", []):
                gold.setdefault((label["h"], label["t"]), set()).add(label["r"])
        except (KeyError, TypeError) as exc:
            raise DatasetError(f"{file}: document {number}: malformed record ({exc})") from exc
        for sent_id, tokens in enumerate(sentences):
            text = TokenText(tokens)
            mentions = []
            for vertex_id, vertex in enumerate(vertices):
                for mention in vertex:
                    if mention.get("sent_id") != sent_id:
                        continue
                    type_ = type_map(mention["type"]) if type_map else mention["type"]
                    if type_ is not None:
                        start, end = mention["pos"]
                        mentions.append((vertex_id, start, end, text.mention(start, end, type_)))
            for h_vertex, h_start, _, head in mentions:
                for t_vertex, t_start, _, tail in mentions:
                    if h_vertex == t_vertex or (keep is not None and not keep(head.type, tail.type)):
                        continue
                    key = (title, sent_id, h_start, t_start)
                    if key in seen:
                        continue
                    relations = gold.get((h_vertex, t_vertex), set())
                    mapped = sorted(labels_by_id[r] for r in relations if r in labels_by_id)
                    if relations and not mapped:
                        continue
                    seen.add(key)
                    label = mapped[0] if mapped else NO_RELATION
                    examples.append(CandidatePair(text=text.text, head=head, tail=tail, label=label,
                                                  id=f"{title}:{sent_id}:{h_start}:{t_start}"))
    return examples
