"""Pronouns and descriptions linked to an earlier name by the documented rules of entities/references.py."""

from __future__ import annotations

from kgbuild.entities.pairing import candidate_pairs
from kgbuild.entities.references import WINDOW, link_references, reference_aliases
from kgbuild.resolution.within_document import document_aliases
from kgbuild.schema import RelationSchema
from kgbuild.types import Mention, Sentence


def sentence(index: int, text: str, *names: tuple[str, str]) -> Sentence:
    mentions = tuple(Mention(name, type_, text.index(name), text.index(name) + len(name)) for name, type_ in names)
    return Sentence("d", index, index * 100, text, mentions)


def links(sentences: list[Sentence]) -> list[tuple[int, str, str, str, str]]:
    return [(s.index, m.text, m.type, m.refers_to, m.link) for s in link_references(sentences) for m in s.mentions
            if m.link]


def test_she_and_it_and_the_company_link_to_the_latest_name_of_their_type() -> None:
    doc = [sentence(0, "Ana Ruiz runs Norvik Systems in Oslo.", ("Ana Ruiz", "PERSON"), ("Norvik Systems", "ORG"),
                    ("Oslo", "GPE")),
           sentence(1, "She was born on 3 May 1980.", ("3 May 1980", "DATE")),
           sentence(2, "It is based in Oslo, and the company was founded in 1998.", ("Oslo", "GPE"), ("1998", "DATE")),
           sentence(3, "The city has grown since."),
           sentence(4, "Its headquarters are in Tromsø.", ("Tromsø", "GPE"))]
    assert links(doc) == [(1, "She", "PERSON", "Ana Ruiz", "pronoun"), (2, "It", "ORG", "Norvik Systems", "pronoun"),
                          (2, "the company", "ORG", "Norvik Systems", "description"),
                          (3, "The city", "GPE", "Oslo", "description"), (4, "Its", "ORG", "Norvik Systems", "pronoun")]
    linked = link_references(doc)
    she = linked[1].mentions[0]
    assert (she.start, she.end, linked[1].text[she.start:she.end]) == (0, 3, "She")  # the words as written
    assert [m.text for m in linked[2].mentions] == ["It", "Oslo", "the company", "1998"]  # in text order


def test_no_link_where_the_rules_say_never() -> None:
    doc = [sentence(0, "Ana Ruiz runs Norvik.", ("Ana Ruiz", "PERSON"), ("Norvik", "ORG")),
           sentence(1, "Ben Cole said she lives in Lyon.", ("Ben Cole", "PERSON"), ("Lyon", "GPE")),  # a name first
           sentence(2, "Analysts said it was a good year."),  # "it" not opening the sentence
           sentence(3, "The Company Store opened.", ("The Company Store", "ORG"))]  # part of a name
    assert links(doc) == []
    far = [sentence(0, "Ana Ruiz spoke.", ("Ana Ruiz", "PERSON")),
           *[sentence(i, "Nothing happened.") for i in range(1, WINDOW + 1)], sentence(WINDOW + 1, "She left.")]
    assert links(far) == []  # the name is more than WINDOW sentences back
    assert links([sentence(0, "She was born in 1980.", ("1980", "DATE"))]) == []  # nothing to refer to


def test_a_pronoun_chain_stays_with_one_person_and_the_subject_comes_first() -> None:
    doc = [sentence(0, "Ana Ruiz hired Ben Cole.", ("Ana Ruiz", "PERSON"), ("Ben Cole", "PERSON")),
           sentence(1, "She lives in Lyon.", ("Lyon", "GPE")),
           sentence(2, "She was born in 1980.", ("1980", "DATE"))]
    assert [link[3] for link in links(doc)] == ["Ana Ruiz", "Ana Ruiz"]


def test_links_become_pairs_and_alias_decisions_but_never_names(default_schema: RelationSchema) -> None:
    doc = link_references([
        sentence(0, "Ana Ruiz runs Norvik.", ("Ana Ruiz", "PERSON"), ("Norvik", "ORG")),
        sentence(1, "She lives in Lyon, and she chairs Norvik.", ("Lyon", "GPE"), ("Norvik", "ORG"))])
    pairs = {(p.head.text, p.head.name, p.tail.text) for p in candidate_pairs(doc[1:], default_schema)}
    assert ("She", "Ana Ruiz", "Lyon") in pairs and ("she", "Ana Ruiz", "Norvik") in pairs
    assert not any(p.head.name == p.tail.name for p in candidate_pairs(doc, default_schema))
    aliases = reference_aliases("d", doc)
    assert [(a.spelling, a.canonical, a.reason, a.doc_id) for a in aliases] == [("She", "Ana Ruiz", "pronoun", "d")]
    assert all(a.spelling.casefold() != "she" for a in document_aliases("d", doc))


def test_a_pronoun_is_never_paired_with_the_name_it_stands_for(default_schema: RelationSchema) -> None:
    doc = link_references([sentence(0, "Ana Ruiz runs Norvik.", ("Ana Ruiz", "PERSON"), ("Norvik", "ORG")),
                           sentence(1, "She met Ana Ruiz's rival.", ("Ana Ruiz", "PERSON"))])
    assert links(doc[:1] + doc[1:]) == [(1, "She", "PERSON", "Ana Ruiz", "pronoun")]
    assert list(candidate_pairs(doc[1:], default_schema)) == []  # PERSON-PERSON (kill) would pair by text alone


def test_an_age_used_as_a_name_links_to_the_latest_person_and_spacys_date_reading_does_not_block_it(
        default_schema: RelationSchema) -> None:
    doc = [sentence(0, "Faith Kiptoo won the race in Nairobi.", ("Faith Kiptoo", "PERSON"), ("Nairobi", "GPE")),
           sentence(1, "The 27-year-old lives in Iten.", ("27-year-old", "DATE"), ("Iten", "GPE")),
           sentence(2, "Kiptoo, 27-year-old winner, thanked the 3-year-olds.", ("Kiptoo", "PERSON"))]
    assert links(doc) == [(1, "The 27-year-old", "PERSON", "Faith Kiptoo", "description")]
    pairs = {(p.head.name, p.tail.name) for p in candidate_pairs(link_references(doc), default_schema)}
    assert ("Faith Kiptoo", "Iten") in pairs and ("Faith Kiptoo", "27-year-old") not in pairs  # an age is no date


def test_a_job_title_before_a_name_stands_for_the_employer_the_article_is_about(
        default_schema: RelationSchema) -> None:
    doc = [sentence(0, "Aérotech Boréal will cut 300 jobs.", ("Aérotech Boréal", "ORG")),
           sentence(1, "Chief executive officer Ana Ruiz said the cuts were needed.", ("Ana Ruiz", "PERSON")),
           sentence(2, "Coach, Ben Cole, agreed.", ("Ben Cole", "PERSON"))]
    assert links(doc) == [(1, "Chief executive officer", "ORG", "Aérotech Boréal", "role"),
                          (2, "Coach", "ORG", "Aérotech Boréal", "role")]
    pairs = {(p.head.name, p.tail.name) for p in candidate_pairs(link_references(doc), default_schema)}
    assert ("Ana Ruiz", "Aérotech Boréal") in pairs and ("Ben Cole", "Aérotech Boréal") in pairs
    assert [(a.spelling, a.canonical, a.reason) for a in reference_aliases("d", link_references(doc))][0] == (
        "Chief executive officer", "Aérotech Boréal", "role")


def test_no_role_link_without_a_name_right_after_or_with_the_employer_named() -> None:
    org = sentence(0, "Norvik grew.", ("Norvik", "ORG"))
    assert links([org, sentence(1, "Chief executives met on Monday.", ("Monday", "DATE"))]) == []
    assert links([org, sentence(1, "Chief executive officers like Ana Ruiz agree.", ("Ana Ruiz", "PERSON"))]) == []
    assert links([org, sentence(1, "Coach Ana Ruiz left Vantor.", ("Ana Ruiz", "PERSON"), ("Vantor", "ORG"))]) == []
    assert links([org, sentence(1, "President Ana Ruiz spoke.", ("Ana Ruiz", "PERSON"))]) == []  # an office
    assert links([sentence(0, "Coach Ana Ruiz spoke.", ("Ana Ruiz", "PERSON"))]) == []  # nothing to refer to


def test_a_cooperative_a_trust_and_an_operator_are_organisations() -> None:
    doc = [sentence(0, "Asante Gold Cocoa Union opened a factory.", ("Asante Gold Cocoa Union", "ORG")),
           sentence(1, "The cooperative was founded in 1993.", ("1993", "DATE")),
           sentence(2, "Clean Water Trust drills wells.", ("Clean Water Trust", "ORG")),
           sentence(3, "The trust has since drilled more in Malawi.", ("Malawi", "GPE")),
           sentence(4, "Vltava Rail will run trains.", ("Vltava Rail", "ORG")),
           sentence(5, "The operator is based in Prague.", ("Prague", "GPE"))]
    assert links(doc) == [(1, "The cooperative", "ORG", "Asante Gold Cocoa Union", "description"),
                          (3, "The trust", "ORG", "Clean Water Trust", "description"),
                          (5, "The operator", "ORG", "Vltava Rail", "description")]
