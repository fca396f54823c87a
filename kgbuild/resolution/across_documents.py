"""Merges across documents: names of one type whose MiniLM embeddings are close.

Each type gets its own exact FAISS inner-product index over normalised name vectors, and each name
asks it for its nearest neighbours, so the cost grows with names x neighbours rather than with every
pair. Pairs are merged strongest first, and a name joins a group only if it is close enough to the
group's canonical name itself, so that chains of near neighbours ("A" ~ "B" ~ "C") cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from kgbuild.resolution.names import NAME_TYPES, tokens
from kgbuild.types import Alias

NEIGHBOURS = 8


@dataclass(frozen=True)
class NamedEntity:
    key: str
    name: str
    type: str


Encode = Callable[[Sequence[str]], np.ndarray]  # normalised vectors, one row per text
IsUndone = Callable[[str, str], bool]


def similar_entity_merges(entities: Sequence[NamedEntity], encode: Encode, threshold: float,
                          is_undone: IsUndone = lambda a, b: False) -> list[Alias]:
    """Global alias decisions (``doc_id`` empty) merging close names of one type into the fuller one."""
    by_type: dict[str, list[NamedEntity]] = {}
    for entity in entities:
        if entity.type in NAME_TYPES:
            by_type.setdefault(entity.type, []).append(entity)
    merges: list[Alias] = []
    for type_ in sorted(by_type):
        group = sorted(by_type[type_], key=lambda e: e.key)
        if len(group) > 1:
            merges += _merges_of_type(group, encode([e.name for e in group]), threshold, is_undone)
    return merges


def _merges_of_type(group: list[NamedEntity], vectors: np.ndarray, threshold: float,
                    is_undone: IsUndone) -> list[Alias]:
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(vectors)
    scores, neighbours = index.search(vectors, min(NEIGHBOURS + 1, len(group)))
    pairs = sorted(
        ((float(s), min(i, int(j)), max(i, int(j))) for i in range(len(group))
         for s, j in zip(scores[i], neighbours[i], strict=True) if j >= 0 and int(j) != i and s >= threshold),
        key=lambda p: (-p[0], p[1], p[2]),
    )
    root = list(range(len(group)))

    def find(i: int) -> int:
        while root[i] != i:
            i = root[i]
        return i

    merges = []
    for _, a, b in dict.fromkeys(pairs):
        ra, rb = find(a), find(b)
        if ra == rb:
            continue
        keep, fold = (ra, rb) if _fuller(group[ra], group[rb]) else (rb, ra)
        score = float(vectors[keep] @ vectors[fold])
        if score < threshold or is_undone(group[fold].key, group[keep].key):
            continue
        root[fold] = keep
        merges.append(Alias(group[fold].name, group[fold].type, group[keep].name, "similarity", round(score, 4)))
    return merges


def _fuller(a: NamedEntity, b: NamedEntity) -> bool:
    """The name that stays canonical: more words, then more characters, then the smaller key."""
    return (len(tokens(a.name)), len(a.name), b.key) > (len(tokens(b.name)), len(b.name), a.key)
