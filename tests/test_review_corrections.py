"""Teach by example: one reviewer's correction changes how a later run labels a similar, unreviewed
sentence, with no retraining; the reviewed pair itself keeps its reviewed label."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgbuild.config import PipelineConfig, load_pipeline
from kgbuild.relations.corrections import Correction, append_correction, read_corrections
from kgbuild.relations.extractor import RelationExtractor
from kgbuild.relations.retrieval import Retriever, SentenceEncoder, write_bank
from kgbuild.types import CandidatePair, Mention, Triple


def pair(sentence: str, head: tuple[str, str], tail: tuple[str, str]) -> CandidatePair:
    h, t = sentence.index(head[0]), sentence.index(tail[0])
    return CandidatePair(sentence, Mention(head[0], head[1], h, h + len(head[0])),
                         Mention(tail[0], tail[1], t, t + len(tail[0])), doc_id="doc")


def correction(p: CandidatePair, old: str, new: str) -> Correction:
    return Correction("relabel", p.text, p.head.text, p.head.type, p.head.start, p.head.end, p.tail.text,
                      p.tail.type, p.tail.start, p.tail.end, old, new, "doc", "model", "tester",
                      "2026-11-26T00:00:00+00:00")


def with_bank(config: PipelineConfig, bank: Path) -> PipelineConfig:
    return config.model_copy(update={"retriever": config.retriever.model_copy(update={"corrections": str(bank)})})


def test_one_correction_relabels_a_similar_sentence_without_retraining(tmp_path: Path) -> None:
    config = load_pipeline()  # the shipped default pipeline: its adapter, bank and threshold
    reviewed = pair("Nordbank hired auditors from Oslo.", ("Nordbank", "ORG"), ("Oslo", "GPE"))
    similar = pair("Westbank hired auditors from Bergen.", ("Westbank", "ORG"), ("Bergen", "GPE"))
    before = RelationExtractor.from_config(config).label([similar])[0]
    assert before.label == "org_based_in"  # hiring auditors from a city does not place a bank there

    bank = tmp_path / "default.corrections.jsonl"
    append_correction(bank, correction(reviewed, "org_based_in", "no_relation"))  # a reviewer says: no relation
    after = RelationExtractor.from_config(with_bank(config, bank)).label([reviewed, similar])
    assert after[1].label == "no_relation" and after[1].reviewed is None  # the model's own answer, now taught
    assert (after[0].label, after[0].reviewed) == ("no_relation", ("tester", "2026-11-26T00:00:00+00:00"))
    assert Triple.from_labelled(after[0], "m").evidence.reviewed_by == "tester"


def test_corrections_win_at_equal_similarity_and_the_bank_only_grows(tmp_path: Path) -> None:
    sentence = pair("Acme moved its headquarters to Lyon.", ("Acme", "ORG"), ("Lyon", "GPE"))
    bank = tmp_path / "bank.jsonl"
    other = pair("Initech hired a new chief executive.", ("Initech", "ORG"), ("chief", "ORG"))
    write_bank(bank, [CandidatePair(**{**sentence.__dict__, "label": "no_relation"}),
                      CandidatePair(**{**other.__dict__, "label": "no_relation"})])
    fixed = correction(sentence, "no_relation", "org_based_in")
    encoder = SentenceEncoder(load_pipeline().retriever.encoder)
    retriever = Retriever.from_bank(bank, encoder, [fixed.example()])  # type: ignore[list-item]
    (hits,) = retriever.search([sentence.text], k=2)
    assert [h.label for h in hits] == ["org_based_in", "no_relation"]  # same text, same similarity: the correction
    corrections = tmp_path / "c.jsonl"
    append_correction(corrections, fixed)
    append_correction(corrections, correction(sentence, "org_based_in", "no_relation"))
    assert [c.label for c in read_corrections(corrections)] == ["org_based_in", "no_relation"]


def test_a_newer_bank_format_is_refused(tmp_path: Path) -> None:
    from kgbuild.errors import BankError

    bank = tmp_path / "c.jsonl"
    bank.write_text('{"format": 99}\n', encoding="utf-8")
    with pytest.raises(BankError, match="newer"):
        read_corrections(bank)
