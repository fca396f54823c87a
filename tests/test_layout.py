"""Headlines, datelines, bylines and list items are segments of their own, never glued to a sentence."""

from __future__ import annotations

from typing import Any

import pytest

from kgbuild.entities.layout import layout_segments
from kgbuild.entities.spacy_ner import SentenceAnnotator
from kgbuild.types import Document


def pieces(text: str, starts_line: bool = False) -> list[str]:
    return [text[a:b] for a, b in layout_segments(text, starts_line)]


@pytest.mark.parametrize("text,expected", [
    ("Acme names new chief\n\nBOSTON, March 3, 2025 - Acme said so.",
     ["Acme names new chief", "BOSTON, March 3, 2025", "Acme said so."]),
    ("Headline\n\nLONDON, 3 March (Reuters) \u2014 Shell said profits rose.",
     ["Headline", "LONDON, 3 March", "Shell said profits rose."]),  # the credit is no fact of the story
    ("OSLO (AP) — Equinor said so.", ["OSLO", "Equinor said so."]),
    ("Headline\n\nREYKJAVÍK, 8 February (Reuters) \u2014 The observatory said so.",
     ["Headline", "REYKJAVÍK, 8 February", "The observatory said so."]),  # upper case beyond ASCII
    ("Headline\n\nŁÓDŹ \u2014 Acme said so.", ["Headline", "ŁÓDŹ", "Acme said so."]),
    ("Headline\n\nSão Paulo, 3 March \u2014 Acme said so.", ["Headline", "São Paulo, 3 March \u2014 Acme said so."]),
    ("Headline\n\nNEW YORK -- Banks rallied.", ["Headline", "NEW YORK", "Banks rallied."]),
    ("By Jane Doe\nACME said so.", ["By Jane Doe", "ACME said so."]),
    ("Its aims:\n- grow\n* hire\n1. win\n2) keep", ["Its aims:", "- grow", "* hire", "1. win", "2) keep"]),
    ("Ann Lee, 34, joined Acme in 2019.", ["Ann Lee, 34, joined Acme in 2019."]),
    ("NASA - the agency said so.", ["NASA - the agency said so."]),  # mid-paragraph: a sentence
])
def test_layout_segments(text: str, expected: list[str]) -> None:
    assert pieces(text) == expected


def test_a_bare_dateline_is_cut_only_where_a_line_starts() -> None:
    assert pieces("BOSTON - Acme said so.", starts_line=True) == ["BOSTON", "Acme said so."]
    assert pieces("BOSTON - Acme said so.") == ["BOSTON - Acme said so."]


def test_annotated_segments_keep_document_offsets(nlp: Any) -> None:
    text = "Acme Robotics names new chief\n\nBOSTON, March 3, 2025 - Acme Robotics said Maria Delgado will lead it."
    document = Document(id="d", path="d.txt", hash="h", text=text)
    [(_, sentences)] = list(SentenceAnnotator(nlp).annotate([document]))
    assert [s.text for s in sentences][:2] == ["Acme Robotics names new chief", "BOSTON, March 3, 2025"]
    assert [s.index for s in sentences] == list(range(len(sentences)))
    for s in sentences:
        assert text[s.start:s.start + len(s.text)] == s.text
        for m in s.mentions:
            assert text[s.start + m.start:s.start + m.end] == m.text
    assert not any(m.text == "BOSTON" for s in sentences[2:] for m in s.mentions)  # never paired with the news


def test_a_datelines_credit_is_never_an_entity(nlp: Any) -> None:
    """"(Reuters)" names who filed the story: pairing it with the dateline's city gave org_based_in edges."""
    text = "Shell profits rise\n\nLONDON, 3 March (Reuters) \u2014 Shell said profits rose in London."
    document = Document(id="d", path="d.txt", hash="h", text=text)
    [(_, sentences)] = list(SentenceAnnotator(nlp).annotate([document]))
    assert "Reuters" not in {m.text for s in sentences for m in s.mentions}
    assert "Reuters" not in {s.text for s in sentences}
