"""Pairs across adjacent sentences of one paragraph (``entities.sentence_window``), never across a blank
line, a headline or a dateline, with offsets that stay the document's."""

from __future__ import annotations

from typing import Any

import pytest

from kgbuild.config import EntitiesConfig
from kgbuild.entities.pairing import candidate_pairs
from kgbuild.entities.spacy_ner import SentenceAnnotator
from kgbuild.types import Document, LabelledPair, Mention, Sentence, Triple

TEXT = "Acme Robotics hired Maria Delgado. The firm is based in Madrid.\n\nLisbon is far away."


def sentences() -> list[Sentence]:
    return [
        Sentence("d", 0, 0, "Acme Robotics hired Maria Delgado.",
                 (Mention("Acme Robotics", "ORG", 0, 13), Mention("Maria Delgado", "PERSON", 20, 33))),
        Sentence("d", 1, 35, "The firm is based in Madrid.", (Mention("Madrid", "GPE", 21, 27),)),
        Sentence("d", 2, 65, "Lisbon is far away.", (Mention("Lisbon", "GPE", 0, 6),), paragraph=1),
    ]


def names(pairs: Any) -> set[tuple[str, str]]:
    return {(p.head.text, p.tail.text) for p in pairs}


def test_no_window_pairs_within_sentences_only(default_schema: Any) -> None:
    assert names(candidate_pairs(sentences(), default_schema)) == {("Maria Delgado", "Acme Robotics")}


def test_a_window_pairs_the_next_sentence_of_the_paragraph_only(default_schema: Any) -> None:
    pairs = list(candidate_pairs(sentences(), default_schema, window=1))
    found = names(pairs)
    assert ("Acme Robotics", "Madrid") in found and ("Maria Delgado", "Madrid") in found
    assert not any("Lisbon" in pair for pair in found)  # after a blank line: another paragraph


def test_cross_sentence_offsets_are_the_documents(default_schema: Any) -> None:
    (pair,) = [p for p in candidate_pairs(sentences(), default_schema, window=1)
               if (p.head.text, p.tail.text) == ("Acme Robotics", "Madrid")]
    assert pair.text == TEXT[:63] and pair.text[pair.tail.start:pair.tail.end] == "Madrid"
    evidence = Triple.from_labelled(LabelledPair(pair, "org_based_in", 0.9), "m").evidence
    assert TEXT[evidence.tail_start:evidence.tail_end] == "Madrid"
    assert TEXT[evidence.head_start:evidence.head_end] == "Acme Robotics"
    assert evidence.sentence_index == 0


def test_a_gap_wider_than_sentence_spacing_ends_the_window(default_schema: Any) -> None:
    far = [sentences()[0], Sentence("d", 1, 300, "It is based in Madrid.", (Mention("Madrid", "GPE", 15, 21),))]
    assert ("Acme Robotics", "Madrid") not in names(candidate_pairs(far, default_schema, window=1))


def test_the_annotator_numbers_paragraphs_and_layout_blocks(nlp: Any) -> None:
    text = ("Acme Robotics names new chief\n\nBOSTON, March 3, 2025 - Acme Robotics hired Maria Delgado. "
            "She moved to Madrid.\n\nLisbon is far away.")
    document = Document(id="d", path="d.txt", hash="h", text=text)
    ((_, found),) = SentenceAnnotator(nlp).annotate([document])
    by_text = {s.text: s.paragraph for s in found}
    assert by_text["Acme Robotics hired Maria Delgado."] == by_text["She moved to Madrid."]
    distinct = {by_text["Acme Robotics names new chief"], by_text["BOSTON, March 3, 2025"],
                by_text["She moved to Madrid."], by_text["Lisbon is far away."]}
    assert len(distinct) == 4


def test_the_window_is_bounded() -> None:
    with pytest.raises(ValueError):
        EntitiesConfig(sentence_window=4)


def test_the_bench_holds_only_cross_sentence_answers_to_its_floor(default_schema: Any) -> None:
    from kgbuild.bench.sentence_window import crosses, held_to
    from kgbuild.evaluation.triples import DocumentOutput

    found = sentences()
    pairs = list(candidate_pairs(found, default_schema, window=1))
    labelled = [LabelledPair(p, "works_for", 0.7) for p in pairs]
    output = DocumentOutput(None, pairs, labelled, found)  # type: ignore[arg-type]  # the gold is not read
    across = [crosses(p, found) for p in pairs]
    assert any(across) and not all(across)
    floored = held_to(output, 0.8, "no_relation")
    assert [item.label for item in floored.labelled] == ["no_relation" if a else "works_for" for a in across]
    assert [item.label for item in held_to(output, 0.5, "no_relation").labelled] == ["works_for"] * len(pairs)
    dropped = held_to(output, None, "no_relation")
    assert dropped.candidates == [p for p, a in zip(pairs, across, strict=True) if not a]
