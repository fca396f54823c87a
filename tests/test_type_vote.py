"""One type per name within a document: a majority vote, then short names inherit their one full name's type."""

from __future__ import annotations

from kgbuild.entities.type_vote import vote_types
from kgbuild.types import Mention, Sentence


def sentence(index: int, text: str, *names: tuple[str, str]) -> Sentence:
    mentions = tuple(Mention(name, kind, text.index(name), text.index(name) + len(name)) for name, kind in names)
    return Sentence("d", index, 0, text, mentions)


def types(sentences: list[Sentence]) -> list[list[tuple[str, str]]]:
    return [[(m.text, m.type) for m in s.mentions] for s in sentences]


def test_a_surname_inherits_the_type_of_its_one_full_name() -> None:
    voted = vote_types([sentence(0, "Maria Delgado joined Acme.", ("Maria Delgado", "PERSON"), ("Acme", "ORG")),
                        sentence(1, "Delgado worked for Siemens.", ("Delgado", "ORG"), ("Siemens", "ORG"))])
    assert types(voted)[1] == [("Delgado", "PERSON"), ("Siemens", "ORG")]
    assert voted[1].mentions[0].start == 0 and voted[1].mentions[0].end == 7  # where it is never changes


def test_a_surname_shared_by_two_full_names_is_left_alone() -> None:
    voted = vote_types([sentence(0, "Ann Ford and Henry Ford met.", ("Ann Ford", "PERSON"), ("Henry Ford", "PERSON")),
                        sentence(1, "Ford said so.", ("Ford", "ORG"))])
    assert types(voted)[1] == [("Ford", "ORG")]


def test_the_majority_type_wins_and_a_tie_keeps_the_first_seen() -> None:
    voted = vote_types([sentence(0, "Manchester City won.", ("Manchester City", "ORG")),
                        sentence(1, "Manchester City lost.", ("Manchester City", "GPE")),
                        sentence(2, "Manchester City drew.", ("Manchester City", "ORG")),
                        sentence(3, "Lyon and Nice.", ("Lyon", "GPE"), ("Nice", "GPE")),
                        sentence(4, "Lyon again.", ("Lyon", "ORG"))])
    assert [t for s in types(voted)[:3] for _, t in s] == ["ORG", "ORG", "ORG"]
    assert types(voted)[4] == [("Lyon", "GPE")]


def test_dates_and_numbers_keep_their_own_type() -> None:
    voted = vote_types([sentence(0, "In 2017 they met.", ("2017", "DATE")),
                        sentence(1, "The 2017 plan.", ("2017", "CARDINAL"))])
    assert types(voted) == [[("2017", "DATE")], [("2017", "CARDINAL")]]


def test_a_company_short_name_taken_for_a_person_inherits_its_one_full_name() -> None:
    voted = vote_types([sentence(0, "Hoshino Motors opened a plant.", ("Hoshino Motors", "ORG")),
                        sentence(1, "Kenji Watanabe, Hoshino's chairman, spoke.", ("Kenji Watanabe", "PERSON"),
                                 ("Hoshino", "PERSON"))])
    assert types(voted)[1] == [("Kenji Watanabe", "PERSON"), ("Hoshino", "ORG")]


def test_a_short_name_of_two_companies_or_of_a_person_stays_a_person() -> None:
    two = vote_types([sentence(0, "Hoshino Motors and Hoshino Bank.", ("Hoshino Motors", "ORG"),
                               ("Hoshino Bank", "ORG")),
                      sentence(1, "Hoshino said so.", ("Hoshino", "PERSON"))])
    assert types(two)[1] == [("Hoshino", "PERSON")]
    person = vote_types([sentence(0, "Ford Motor hired Ann Ford.", ("Ford Motor", "ORG"), ("Ann Ford", "PERSON")),
                         sentence(1, "Ford said so.", ("Ford", "PERSON"))])
    assert types(person)[1] == [("Ford", "PERSON")]  # the surname rule wins


def test_a_place_spacy_calls_a_city_is_not_made_a_company() -> None:
    voted = vote_types([sentence(0, "Kyoto University is in Kyoto.", ("Kyoto University", "ORG"), ("Kyoto", "GPE"))])
    assert types(voted) == [[("Kyoto University", "ORG"), ("Kyoto", "GPE")]]


def test_a_name_the_context_classifier_settled_keeps_its_type() -> None:
    sentences = [sentence(0, "Air Zermatt pilot Lukas Imboden spoke.", ("Air Zermatt", "PERSON"),
                          ("Lukas Imboden", "PERSON")),
                 sentence(1, "It was coordinated from Zermatt.", ("Zermatt", "GPE"))]
    assert types(vote_types(sentences))[1] == [("Zermatt", "PERSON")]  # spelling alone: a surname
    assert types(vote_types(sentences, settled={"zermatt"}))[1] == [("Zermatt", "GPE")]
