"""Your own relations: a JSONL examples file, ``kgbuild train --examples`` continuing from the shipped adapter,
a warning for labels an adapter never saw, and a threshold chosen for the new adapter."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from kgbuild.cli import app
from kgbuild.config import load_pipeline
from kgbuild.datasets.jsonl_examples import load_jsonl_examples
from kgbuild.datasets.registry import check_dataset_schema, load_dataset
from kgbuild.errors import DatasetError
from kgbuild.relations.extractor import unseen_labels
from kgbuild.relations.retrieval import read_bank
from kgbuild.schema import RelationSchema
from kgbuild.workflows.train_examples import examples_config

REPO = Path(__file__).resolve().parent.parent
DEFAULT_ADAPTER = REPO / "kgbuild" / "resources" / "models" / "default-rag-lora" / "adapter"
ACQUISITIONS = [("Acme Corp bought Globex in 2019.", "Acme Corp", "Globex", "acquired"),
                ("Initech acquired Hooli for $2 billion.", "Initech", "Hooli", "acquired"),
                ("Umbrella took over Cyberdyne last year.", "Umbrella", "Cyberdyne", "acquired"),
                ("Stark Industries purchased Wayne Enterprises.", "Stark Industries", "Wayne Enterprises", "acquired"),
                ("Vandelay Industries and Kramerica met in court.", "Vandelay Industries", "Kramerica", "no_relation"),
                ("Soylent sued Tyrell over a patent.", "Soylent", "Tyrell", "no_relation"),
                ("Oscorp bought Gekko & Co in March.", "Oscorp", "Gekko & Co", "acquired"),
                ("Massive Dynamic partnered with Aperture.", "Massive Dynamic", "Aperture", "no_relation"),
                ("Wonka Industries acquired Slugworth.", "Wonka Industries", "Slugworth", "acquired"),
                ("Duff Beer signed a deal with Moe's Tavern.", "Duff Beer", "Moe's Tavern", "no_relation")]


def write_examples(path: Path) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for text, head, tail, label in ACQUISITIONS:
            handle.write(json.dumps({"text": text, "head": head, "head_type": "ORG", "tail": tail,
                                     "tail_type": "ORG", "label": label}) + "\n")
        handle.write(json.dumps({"decision": "wrong_entity", "sentence": "x", "head": "x", "head_type": "ORG",
                                 "tail": "x", "tail_type": "ORG", "label": "no_relation"}) + "\n")
    return path


def test_examples_file_format_and_its_errors(tmp_path: Path) -> None:
    examples = load_jsonl_examples(write_examples(tmp_path / "mine.jsonl"))
    assert len(examples) == len(ACQUISITIONS)  # the wrong_entity correction is no example
    first = examples[0]
    assert (first.head.text, first.head.start, first.tail.text, first.tail.start) == ("Acme Corp", 0, "Globex", 17)
    assert first.label == "acquired" and first.text[first.tail.start:first.tail.end] == "Globex"
    twice = tmp_path / "twice.jsonl"
    twice.write_text(json.dumps({"text": "Acme met Acme.", "head": "Acme", "head_type": "ORG", "tail": "Acme",
                                 "tail_type": "ORG", "tail_start": 9, "label": "no_relation"}) + "\n", encoding="utf-8")
    assert load_jsonl_examples(twice)[0].tail.start == 9
    for line, message in [("{not json", "not JSON"), ('{"text": "a"}', "needs text fields head"),
                          ('{"text": "a b", "head": "c", "head_type": "X", "tail": "a", "tail_type": "X", '
                           '"label": "l"}', "head 'c' is not in the text")]:
        bad = tmp_path / "bad.jsonl"
        bad.write_text(line + "\n", encoding="utf-8")
        with pytest.raises(DatasetError, match=message):
            load_jsonl_examples(bad)


def test_the_jsonl_dataset_takes_the_pipeline_schema(tmp_path: Path) -> None:
    check_dataset_schema("jsonl", "anything")
    with pytest.raises(DatasetError, match="uses schema 'semeval'"):
        check_dataset_schema("semeval", "default")
    assert len(load_dataset("jsonl", write_examples(tmp_path / "m.jsonl"), "train")) == len(ACQUISITIONS)


def test_a_shipped_pipeline_trains_into_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = examples_config(load_pipeline(), write_examples(tmp_path / "m.jsonl"))
    assert config.training is not None and config.training.dataset == "jsonl"
    assert config.resolve_path(config.training.output) == tmp_path / "runs" / "default-examples"


def test_labels_the_adapter_never_saw(tmp_path: Path) -> None:
    schema = mynews_schema(tmp_path)
    assert unseen_labels(DEFAULT_ADAPTER, schema) == ["acquired"]
    assert unseen_labels(DEFAULT_ADAPTER, RelationSchema.bundled("default")) == []
    assert unseen_labels(tmp_path / "no-card" / "adapter", schema) == []  # nothing to compare against


def mynews_schema(folder: Path) -> RelationSchema:
    spec = yaml.safe_load((REPO / "kgbuild" / "resources" / "schemas" / "default.yaml").read_text(encoding="utf-8"))
    spec["name"] = "mynews"
    spec["labels"]["acquired"] = {"description": "the head organisation bought the tail organisation",
                                  "head_types": ["ORG"], "tail_types": ["ORG"]}
    (folder / "mynews-schema.yaml").write_text(yaml.safe_dump(spec), encoding="utf-8")
    return RelationSchema.load(folder / "mynews-schema.yaml")


@pytest.mark.model
def test_train_examples_continues_the_shipped_adapter(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    mynews_schema(tmp_path)
    pipeline = tmp_path / "mynews.yaml"
    pipeline.write_text(yaml.safe_dump({
        "version": 1, "name": "mynews", "schema": "mynews-schema.yaml",
        "retriever": {"bank": "bundled:default-rag-lora", "k": 1},
        "generator": {"adapter": "bundled:default-rag-lora", "threshold": 0.9},
        "training": {"dataset": "jsonl", "data": "unused", "output": "runs/mynews", "epochs": 1, "batch_size": 4,
                     "select_epoch": False, "dev_fraction": 0.3}}), encoding="utf-8")
    examples = write_examples(tmp_path / "acquisitions.jsonl")
    with caplog.at_level(logging.WARNING):
        result = CliRunner().invoke(app, ["train", "--pipeline", str(pipeline), "--examples", str(examples),
                                          "--max-steps", "2", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "new labels, learned from your examples only: acquired (" in caplog.text
    out = tmp_path / "runs" / "mynews"
    bank = read_bank(out / "bank.jsonl")
    shipped = read_bank(DEFAULT_ADAPTER.parent / "bank.jsonl")
    assert len(bank) > len(shipped) and sum(e.label == "acquired" for e in bank) >= 4  # old bank + the new examples
    artefact = load_pipeline(out / "pipeline.yaml")
    assert artefact.generator.threshold != 0.9  # chosen again for the new adapter, not copied
    assert unseen_labels(out / "adapter", artefact.load_schema()) == []
    card = (out / "README.md").read_text(encoding="utf-8")
    assert "jsonl" in card
    from safetensors.torch import load_file

    trained = load_file(str(out / "adapter" / "adapter_model.safetensors"))
    before = load_file(str(DEFAULT_ADAPTER / "adapter_model.safetensors"))
    assert trained.keys() == before.keys()
    moved = max(float((trained[k] - before[k]).norm() / before[k].norm()) for k in before if "lora_B" in k)
    assert 0.0 < moved < 0.5  # two small steps away from the shipped adapter, not from a fresh (zero) lora_B
