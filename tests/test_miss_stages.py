"""Each missed gold triple is traced to the first stage that lost it, one case per stage."""

from __future__ import annotations

import pytest

from kgbuild.datasets.docs_gold import GoldDocument
from kgbuild.evaluation.miss_stages import (
    BELOW_THRESHOLD,
    DIFFERENT_SENTENCES,
    ENTITY_NOT_FOUND,
    NO_RELATION,
    PRONOUN,
    TYPE_REJECTED,
    WRONG_LABEL,
    miss_stage,
)
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair, LabelledPair, Mention, Sentence

GOLD = GoldDocument(path="d.txt", entities={
    "Maria Delgado": {"type": "PERSON", "aliases": ["Delgado"]}, "Lyon": {"type": "GPE"},
    "Acme Robotics": {"type": "ORG"}})


def sentence(index: int, text: str, *names: tuple[str, str]) -> Sentence:
    mentions = tuple(Mention(name, kind, text.index(name), text.index(name) + len(name)) for name, kind in names)
    return Sentence("d", index, 0, text, mentions)


def offered(s: Sentence, label: str, scores: dict[str, float]) -> LabelledPair:
    head, tail = s.mentions[0], s.mentions[1]
    return LabelledPair(CandidatePair(s.text, head, tail, "d", s.index, 0), label, max(scores.values()), scores)


def stage(sentences: list[Sentence], labelled: list[LabelledPair], schema: RelationSchema,
          triple: tuple[str, str, str] = ("maria delgado", "lives_in", "lyon")) -> str:
    return miss_stage(GOLD, *triple, sentences, labelled, schema)


def test_an_entity_spacy_never_found(default_schema: RelationSchema) -> None:
    found = [sentence(0, "Maria Delgado moved to Lyon.", ("Maria Delgado", "PERSON"))]
    assert stage(found, [], default_schema) == ENTITY_NOT_FOUND


def test_a_mistyped_entity_that_the_pair_rule_rejects(default_schema: RelationSchema) -> None:
    mistyped = [sentence(0, "Maria Delgado lives in Lyon.", ("Maria Delgado", "GPE"), ("Lyon", "GPE"))]
    assert stage(mistyped, [], default_schema) == TYPE_REJECTED


@pytest.mark.parametrize("second", ["She lives in Lyon.", "The company moved to Lyon.", "Her home is Lyon."])
def test_a_fact_stated_through_a_pronoun_or_description(default_schema: RelationSchema, second: str) -> None:
    sentences = [sentence(0, "Maria Delgado joined Acme Robotics.", ("Maria Delgado", "PERSON")),
                 sentence(1, second, ("Lyon", "GPE"))]
    assert stage(sentences, [], default_schema) == PRONOUN


def test_names_in_different_sentences_without_a_reference(default_schema: RelationSchema) -> None:
    sentences = [sentence(0, "Maria Delgado joined Acme Robotics.", ("Maria Delgado", "PERSON")),
                 sentence(1, "Lyon hosted the fair.", ("Lyon", "GPE"))]
    assert stage(sentences, [], default_schema) == DIFFERENT_SENTENCES


@pytest.mark.parametrize("label,scores,expected", [
    ("no_relation", {"lives_in": 0.2, "no_relation": 0.8}, NO_RELATION),
    ("no_relation", {"lives_in": 0.45, "no_relation": 0.3, "works_for": 0.25}, BELOW_THRESHOLD),
    ("works_for", {"lives_in": 0.1, "no_relation": 0.2, "works_for": 0.7}, WRONG_LABEL),
])
def test_an_offered_pair_that_the_model_got_wrong(default_schema: RelationSchema, label: str,
                                                  scores: dict[str, float], expected: str) -> None:
    s = sentence(0, "Delgado lives in Lyon.", ("Delgado", "PERSON"), ("Lyon", "GPE"))
    assert stage([s], [offered(s, label, scores)], default_schema) == expected
