"""Words beside a name decide its type: one case per cue, and the cases where no cue may fire."""

from __future__ import annotations

import pytest

from kgbuild.entities.type_cues import apply_cues, mention_cue, name_cues
from kgbuild.types import Mention, Sentence


def mention(text: str, name: str, kind: str = "PERSON") -> Mention:
    start = text.index(name)
    return Mention(name, kind, start, start + len(name))


def sentence(index: int, text: str, *names: tuple[str, str]) -> Sentence:
    return Sentence("d", index, 0, text, tuple(mention(text, name, kind) for name, kind in names))


@pytest.mark.parametrize(("text", "name", "cue"), [
    ("Vltava Rail, a private train operator, will start services.", "Vltava Rail", "ORG"),
    ("Brouwerij De Kroon, a family brewery based in Leuven, celebrated.", "Brouwerij De Kroon", "ORG"),
    ("The survey was done by Yayasan Hutan Lestari, a foundation set up in 2004.", "Yayasan Hutan Lestari", "ORG"),
    ("Skarven Systems, a maker of marine sensors, said so.", "Skarven Systems", "ORG"),
    ("Asante Gold Cocoa Union, a farmers' cooperative based in Kumasi, opened.", "Asante Gold Cocoa Union", "ORG"),
    ("Sofie Claes, the great-granddaughter of its founder, runs it.", "Sofie Claes", "PERSON"),
    ("Tremblay-Roy, a former finance chief of Bombardier, joined.", "Tremblay-Roy", "PERSON"),
    ("Ana Ruiz, a lawyer at the firm, said so.", "Ana Ruiz", "PERSON"),
    ("Leuven, a university city in Flemish Brabant, hosted it.", "Leuven", "PLACE"),
    ("Second place went to the Ethiopian runner Tigist Alemu.", "Tigist Alemu", "PERSON"),
    ("He will face the Polish qualifier Zofia Wrona on Sunday.", "Zofia Wrona", "PERSON"),
    ("The drone maker Aakash Aerial raised money.", "Aakash Aerial", "ORG"),
    ("The Danish shipping company Maersk grew.", "Maersk", "ORG"),
    ("The Kenyan capital Nairobi hosted it.", "Nairobi", "PLACE"),
    ("Vltava Rail was founded in 2019.", "Vltava Rail", "ORG"),
    ("She spent six seasons at Göztepe, which was founded in 1925.", "Göztepe", "ORG"),
    ("Kärbes Payments, which is based in Tallinn, agreed.", "Kärbes Payments", "ORG"),
    ("The Blues, founded in 1996, play at Eden Park.", "Blues", "ORG"),
    ("It agreed to buy Helsinki-based Lumo Pay.", "Lumo Pay", "ORG"),
    ("Lumo Pay's founder, Aleksi Virtanen, will join.", "Lumo Pay", "ORG"),
    ("Shares in Skarven rose 4 percent in Oslo.", "Skarven", "ORG"),
    ("Hoshino shares fell 2 percent.", "Hoshino", "ORG"),
    ("Eide, 52, previously ran the division.", "Eide", "PERSON"),
    ("Tigist Alemu, who lives in Addis Ababa, came second.", "Tigist Alemu", "PERSON"),
    ("She was born in Chicoutimi on 3 May 1972.", "Chicoutimi", "PLACE"),
    ("The 19-year-old, who lives in Novi Sad, trains there.", "Novi Sad", "PLACE"),
    ("Zofia Wrona, who comes from Gdynia, won.", "Gdynia", "PLACE"),
    ("Born in Visp, Imboden flew for 18 years.", "Visp", "PLACE"),
    ("Air Zermatt pilot Lukas Imboden said so.", "Air Zermatt", "ORG"),
])
def test_each_cue_gives_its_class(text: str, name: str, cue: str) -> None:
    assert mention_cue(sentence(0, text, (name, "PERSON")), mention(text, name)) == cue


@pytest.mark.parametrize(("text", "name"), [
    ("Ana Ruiz, a partner at the firm, said so.", "Ana Ruiz"),  # the firm is where she works, not what she is
    ("Ana Ruiz said the company would grow.", "Ana Ruiz"),
    ("The Tennis Academy Fruška trains juniors.", "Tennis Academy Fruška"),  # a name's own words are no cue
    ("Ana Ruiz works for Acme Corp.", "Acme Corp"),
    ("It is the company Ana Ruiz founded.", "Ana Ruiz"),
    ("Going forward Ana Ruiz will lead.", "Ana Ruiz"),
    ("Ana Ruiz is based in Lyon.", "Ana Ruiz"),  # people are based somewhere too
    ("Selin Aydın has left the İzmir club.", "İzmir"),  # "the İzmir club" is the club from İzmir
    ("It will build a plant near Győr, Hungary, the company said.", "Hungary"),
    ("Kourou is located in French Guiana.", "French"),  # a name spaCy cut short
])
def test_no_cue_where_the_words_do_not_say(text: str, name: str) -> None:
    assert mention_cue(sentence(0, text, (name, "PERSON")), mention(text, name)) is None


@pytest.mark.parametrize(("text", "names", "cued"), [
    ("Tunja, Colombia \u2014 Daniela Quintero won.", [("Tunja", "NORP"), ("Colombia", "GPE")], {"tunja": "PLACE"}),
    ("It is near Győr, Hungary.", [("Győr", "GPE"), ("Hungary", "GPE")], {"győr": "PLACE"}),
    ("Acme, Germany's largest bank, grew.", [("Acme", "ORG"), ("Germany", "GPE")], {}),
    ("Magma builds beneath the Reykjanes Peninsula.", [("the Reykjanes Peninsula", "FAC")],
     {"the reykjanes peninsula": "PLACE"}),
    ("They met at the Grand Hotel.", [("the Grand Hotel", "FAC")], {}),
    ("Paris mayor Anne Hidalgo spoke.", [("Paris", "GPE"), ("Anne Hidalgo", "PERSON")], {"anne hidalgo": "PERSON"}),
    ("Manchester City is based in Salford.", [("Manchester City", "GPE"), ("Salford", "GPE")],
     {"manchester city": "ORG", "salford": "PLACE"}),
    ("Ana Ruiz is based in Lyon.", [("Ana Ruiz", "PERSON"), ("Lyon", "GPE")], {"lyon": "PLACE"}),
])
def test_cues_that_read_the_other_names(text: str, names: list[tuple[str, str]], cued: dict[str, str]) -> None:
    assert name_cues([sentence(0, text, *names)]) == cued


def test_a_cue_types_every_mention_and_a_place_keeps_its_finer_type() -> None:
    sentences = [sentence(0, "Vltava Rail was founded in 2019 in Prague.", ("Vltava Rail", "PERSON"),
                          ("Prague", "GPE")),
                 sentence(1, "Vltava Rail runs trains.", ("Vltava Rail", "PERSON")),
                 sentence(2, "She lives in Novi Sad and was born in Tatra.", ("Novi Sad", "FAC"), ("Tatra", "LOC"))]
    cues = name_cues(sentences)
    assert cues == {"vltava rail": "ORG", "novi sad": "PLACE", "tatra": "PLACE"}
    typed = [[(m.text, m.type) for m in s.mentions] for s in apply_cues(sentences, cues)]
    assert typed == [[("Vltava Rail", "ORG"), ("Prague", "GPE")], [("Vltava Rail", "ORG")],
                     [("Novi Sad", "GPE"), ("Tatra", "LOC")]]
    assert apply_cues(sentences, cues)[0].mentions[0].start == 0  # where a name is never changes


def test_cues_that_disagree_give_none_and_links_and_dates_take_no_part() -> None:
    sentences = [sentence(0, "Jordan, a city in the desert, grew.", ("Jordan", "GPE")),
                 sentence(1, "Jordan, 52, spoke.", ("Jordan", "GPE")),
                 sentence(2, "She was born in 1980.", ("1980", "DATE"))]
    assert name_cues(sentences) == {}
    text = "Acme was founded in 1990."
    linked = Sentence("d", 0, 0, text, (Mention("Acme", "PERSON", 0, 4, refers_to="Acme Corp"),))
    assert name_cues([linked]) == {}
