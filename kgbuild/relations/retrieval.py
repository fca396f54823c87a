"""Example bank + sentence embeddings + FAISS: the retrieval half of RAG.

The bank is a JSONL file of labelled ``CandidatePair`` records. Its FAISS index is derived
data: built on first use into the user cache, keyed by the bank's content hash and the encoder,
and reused until either changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kgbuild.assets import resolve_encoder
from kgbuild.errors import BankError
from kgbuild.relations.models import cache_dir
from kgbuild.relations.preparation import preparing
from kgbuild.types import CandidatePair

log = logging.getLogger(__name__)

# Exact search stays sub-millisecond per query up to about this many examples on 2 cores
# (python -m kgbuild.bench.retrieval; docs/PERFORMANCE.md); larger banks get an HNSW index.
APPROXIMATE_ABOVE = 20_000
HNSW_NEIGHBOURS, HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH = 32, 80, 64


def read_bank(path: Path) -> list[CandidatePair]:
    """Every labelled example of a JSONL bank; anything else in it (binary, not examples) is a ``BankError``."""
    if not path.is_file():
        raise BankError(f"example bank not found: {path}")
    try:
        with path.open(encoding="utf-8") as handle:
            return [_bank_example(path, number, line) for number, line in enumerate(handle, 1) if line.strip()]
    except UnicodeDecodeError as exc:
        raise BankError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); a bank is JSON lines") from None


def _bank_example(path: Path, number: int, line: str) -> CandidatePair:
    try:
        example = CandidatePair.from_json(json.loads(line))
    except (ValueError, KeyError, TypeError) as exc:  # ValueError: not JSON, or a field that is no number
        raise BankError(f"{path}:{number}: not a labelled example ({exc})") from exc
    if example.label is None:
        raise BankError(f"{path}:{number}: example has no label")
    return example


def write_bank(path: Path, examples: Sequence[CandidatePair]) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(example.to_json(), ensure_ascii=False, sort_keys=True) + "\n")
    os.replace(tmp, path)


class SentenceEncoder:
    """Thin wrapper so tests and training can share one loaded encoder."""

    def __init__(self, spec: str, batch_size: int = 64) -> None:
        from sentence_transformers import SentenceTransformer

        self.spec = spec
        self.batch_size = batch_size
        try:
            self.model = SentenceTransformer(resolve_encoder(spec), device="cpu")
        except OSError as exc:
            raise BankError(f"cannot load sentence encoder '{spec}': {exc}") from exc

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    @property
    def dimension(self) -> int:
        return int(self.model.get_sentence_embedding_dimension() or 0)


@dataclass
class Retriever:
    """Top-k labelled examples most similar to a query sentence (cosine over normalised vectors)."""

    examples: list[CandidatePair]
    encoder: SentenceEncoder
    index: Any  # faiss.Index
    preferred: list[CandidatePair] = field(default_factory=list)  # reviewers' corrections
    preferred_index: Any = None

    @classmethod
    def from_bank(cls, bank: Path, encoder: SentenceEncoder, preferred: Sequence[CandidatePair] = ()) -> Retriever:
        """``preferred`` examples (the correction bank) are searched too and win at equal similarity; they are
        few and change with every review, so their small index is built in memory, not cached."""
        examples = read_bank(bank)
        extra = build_index(encoder.encode([p.text for p in preferred]), approximate=False) if preferred else None
        return cls(examples, encoder, load_or_build_index(bank, examples, encoder), list(preferred), extra)

    def search(self, sentences: Sequence[str], k: int, exclude_same_text: bool = False) -> list[list[CandidatePair]]:
        """Examples per query sentence. ``exclude_same_text`` keeps training from seeing its own answer."""
        if k == 0 or not (self.examples or self.preferred) or not sentences:
            return [[] for _ in sentences]
        unique = list(dict.fromkeys(sentences))
        vectors = self.encoder.encode(unique)
        extra = 8 if exclude_same_text else 0
        ranked: list[list[tuple[float, int, CandidatePair]]] = [[] for _ in unique]
        for rank, (examples, index) in enumerate(((self.preferred, self.preferred_index),
                                                  (self.examples, self.index))):
            if not examples:
                continue
            scores, ids = index.search(vectors, min(k + extra, len(examples)))
            for hits, row_scores, row in zip(ranked, scores, ids, strict=True):
                hits += [(-round(float(s), 5), rank, examples[i]) for s, i in zip(row_scores, row, strict=True)
                         if i >= 0]
        found: dict[str, list[CandidatePair]] = {}
        for text, hits in zip(unique, ranked, strict=True):
            ordered = [example for *_, example in sorted(hits, key=lambda h: (h[0], h[1]))]
            if exclude_same_text:
                ordered = [h for h in ordered if h.text != text]
            found[text] = ordered[:k]
        return [found[s] for s in sentences]


def build_index(vectors: np.ndarray, approximate: bool) -> Any:
    """Exact inner-product search, or HNSW (approximate, logarithmic) for banks past ``APPROXIMATE_ABOVE``."""
    import faiss

    dimension = int(vectors.shape[1])
    index: Any
    if approximate:
        index = faiss.IndexHNSWFlat(dimension, HNSW_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    else:
        index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def bank_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def index_path(bank: Path, encoder_spec: str) -> Path:
    """Where a bank's index lives: the user cache, keyed by the bank's content hash and the encoder.

    Indexes are derived data, so artefacts ship only their bank; the first use rebuilds the index."""
    key = hashlib.sha256(f"{bank_hash(bank)}\n{encoder_spec}".encode()).hexdigest()[:24]
    return cache_dir() / "indexes" / f"{key}.faiss"


def load_or_build_index(bank: Path, examples: Sequence[CandidatePair], encoder: SentenceEncoder) -> Any:
    import faiss

    digest = bank_hash(bank)
    path = index_path(bank, encoder.spec)
    meta_path = path.with_suffix(path.suffix + ".json")
    if path.is_file() and meta_path.is_file():
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            meta = {}
        if meta.get("bank_sha256") == digest and meta.get("encoder") == encoder.spec:
            return faiss.read_index(str(path))
    with preparing():
        return _build_and_cache_index(bank, examples, encoder, path, digest)


def _build_and_cache_index(bank: Path, examples: Sequence[CandidatePair], encoder: SentenceEncoder, path: Path,
                           digest: str) -> Any:
    log.info("building FAISS index for %s (%d examples) in %s", bank, len(examples), path)
    texts = [e.text for e in examples]
    unique = list(dict.fromkeys(texts))  # banks hold one line per pair: encode each sentence once
    vectors = encoder.encode(unique) if unique else np.zeros((0, encoder.dimension), dtype=np.float32)
    row = {text: i for i, text in enumerate(unique)}
    index = build_index(vectors[[row[t] for t in texts]], approximate=len(texts) > APPROXIMATE_ABOVE)
    try:
        _atomic_write_index(index, path, {"bank_sha256": digest, "encoder": encoder.spec, "size": len(examples)})
    except OSError as exc:  # a read-only cache costs a rebuild next time, nothing else
        log.warning("cannot cache the FAISS index at %s: %s", path, exc)
    return index


def _atomic_write_index(index: Any, path: Path, meta: dict[str, Any]) -> None:
    import faiss

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    faiss.write_index(index, str(tmp))
    os.replace(tmp, path)
    meta_path = path.with_suffix(path.suffix + ".json")
    meta_tmp = meta_path.with_name(meta_path.name + ".tmp")
    meta_tmp.write_text(json.dumps(meta, indent=2), encoding="utf-8")
    os.replace(meta_tmp, meta_path)
