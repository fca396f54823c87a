"""Loaders on the real benchmark files (exact counts) and on TACRED-format fixtures with real ids."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from kgbuild.datasets.common import DatasetError
from kgbuild.datasets.registry import ANY_SCHEMA, available, dataset_schema, load_dataset
from kgbuild.datasets.sampling import train_dev_split
from kgbuild.datasets.semeval import parse_marked
from kgbuild.schema import RelationSchema
from kgbuild.training_config import data_root

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "tacred"


def assert_spans_match(examples: list) -> None:
    for e in examples:
        assert e.text[e.head.start:e.head.end] == e.head.text
        assert e.text[e.tail.start:e.tail.end] == e.tail.text


@pytest.mark.data("semeval2010_task8")
def test_semeval_train_file() -> None:
    examples = load_dataset("semeval", data_root() / "semeval2010_task8" / "TRAIN_FILE.TXT", "train")
    counts = Counter(e.label for e in examples)
    assert len(examples) == 8000
    assert counts["Other"] == 1410
    assert counts["Cause-Effect(e2,e1)"] == 659 and counts["Cause-Effect(e1,e2)"] == 344
    assert counts["Entity-Destination(e2,e1)"] == 1
    assert len(counts) == 19 and set(counts) == set(RelationSchema.bundled("semeval").all_labels)
    first = examples[0]
    assert first.id == "1" and first.head.text == "configuration" and first.tail.text == "elements"
    assert "<e1>" not in first.text and first.label == "Component-Whole(e2,e1)"
    assert_spans_match(examples)


def test_semeval_markers_and_errors(tmp_path: Path) -> None:
    text, head, tail = parse_marked("The <e1>cat</e1> sat on the <e2>mat</e2>.")
    assert text == "The cat sat on the mat." and (head.start, head.end, tail.start, tail.end) == (4, 7, 19, 22)
    bad = tmp_path / "TRAIN_FILE.TXT"
    bad.write_text('1\t"no markers here"\nOther\nComment:\n', encoding="utf-8")
    with pytest.raises(DatasetError, match=r"TRAIN_FILE.TXT:1: sentence 1"):
        load_dataset("semeval", bad, "train")
    bad.write_text("not the format\n", encoding="utf-8")
    with pytest.raises(DatasetError, match="expected 'id<TAB>"):
        load_dataset("semeval", bad, "train")


@pytest.mark.data("conll04")
@pytest.mark.parametrize("split,pairs,positives", [("train", 5835, 1283), ("dev", 1502, 343)])
def test_conll04(split: str, pairs: int, positives: int) -> None:
    examples = load_dataset("conll04", data_root() / "conll04", split)
    labels = Counter(e.label for e in examples)
    assert len(examples) == pairs and sum(v for k, v in labels.items() if k != "no_relation") == positives
    assert set(labels) <= set(RelationSchema.bundled("conll04").all_labels)
    assert_spans_match(examples)


@pytest.mark.data("re-docred")
def test_redocred_dev_intra_sentence() -> None:
    examples = load_dataset("redocred", data_root() / "re-docred", "dev")
    labels = Counter(e.label for e in examples)
    assert len(examples) == 50074 and len(examples) - labels["no_relation"] == 7832
    assert labels["country"] > 0 and set(labels) <= set(RelationSchema.bundled("redocred").all_labels)
    assert_spans_match(examples[:2000])


@pytest.mark.data("re-docred")
@pytest.mark.data("conll04")
def test_default_schema_training_data() -> None:
    train = load_dataset("kgbuild-default", data_root(), "train")
    dev = load_dataset("kgbuild-default", data_root(), "dev")
    assert (len(train), len(dev)) == (3124, 3970)
    counts = Counter(e.label for e in train)
    assert counts["no_relation"] == 1562 and counts["born_on"] == 204 and counts["founded_on"] == 75
    schema = RelationSchema.bundled("default")
    assert all(e.label in schema.all_labels and schema.allows(e.head.type, e.tail.type) for e in train + dev)
    assert load_dataset("kgbuild-default", data_root(), "train") == train  # seeded, deterministic


@pytest.mark.data("tacrev-patch")  # the real patch files, applied to fixtures that carry their ids
@pytest.mark.data("re-tacred-labels")
def test_tacred_and_its_patches_on_fixtures() -> None:
    tacred = {e.id: e for e in load_dataset("tacred", FIXTURES, "dev")}
    assert len(tacred) == 5
    first = tacred["e7798cd9013281a16790"]
    assert first.text.startswith("Acme Holdings ( ACME ) owns") and first.head.text == "Acme Holdings"
    assert first.tail.text == "Globex" and first.label == "org:subsidiaries"
    assert tacred["e779865fb94919ad3d94"].tail.text == "March 3 , 2009"

    tacrev = {e.id: e.label for e in load_dataset("tacrev", FIXTURES, "dev")}
    assert tacrev == {
        "e7798cd9013281a16790": "no_relation",  # patched
        "e779865fb94919ad3d94": "per:date_of_death",  # patched
        "e7798a9e36cff3265b9e": "org:website",  # patched
        "e7798fb926b9403cfcd2": "per:title",  # not in the patch: unchanged
        "ffff000000000000dead": "per:employee_of",  # not in the patch: unchanged
    }
    assert {e.id: e.label for e in load_dataset("tacrev", FIXTURES, "train")} == {"61b3a5c8c9a882dcfcd2":
                                                                                 "org:founded_by"}
    retacred = {e.id: e.label for e in load_dataset("retacred", FIXTURES, "dev")}
    assert retacred == {  # ids absent from Re-TACRED's dev file are dropped
        "e7798cd9013281a16790": "org:shareholders",
        "e779865fb94919ad3d94": "per:date_of_death",
        "e7798fb926b9403cfcd2": "per:title",
    }
    assert [e.label for e in load_dataset("retacred", FIXTURES, "test")] == ["no_relation"]
    assert dataset_schema("tacrev") == "tacred" and dataset_schema("retacred") == "retacred"


def test_patch_files_are_found_beside_the_data_or_through_the_environment(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "tacred" / "json"
    data.mkdir(parents=True)
    (data / "dev.json").write_text((FIXTURES / "dev.json").read_text(encoding="utf-8"), encoding="utf-8")
    beside = tmp_path / "tacred" / "tacrev-patch"
    beside.mkdir()
    (beside / "dev_patch.json").write_text(json.dumps([{"id": "ffff000000000000dead", "relation": "no_relation"}]))
    labels = {e.id: e.label for e in load_dataset("tacrev", data, "dev")}
    assert labels["ffff000000000000dead"] == "no_relation"  # the user's patch, not the shared one
    assert labels["e7798cd9013281a16790"] == "org:subsidiaries"
    monkeypatch.setenv("KGBUILD_RETACRED_LABELS", str(tmp_path / "nowhere"))
    with pytest.raises(DatasetError, match="re-tacred-labels files not found .*nowhere.*KGBUILD_RETACRED_LABELS"):
        load_dataset("retacred", data, "dev")


def test_corrupt_and_missing_files_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="not found"):
        load_dataset("tacred", tmp_path / "absent", "dev")
    (tmp_path / "dev.json").write_text("[{", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"dev.json: not valid JSON \(line 1"):
        load_dataset("tacred", tmp_path, "dev")
    (tmp_path / "dev.json").write_text(json.dumps([{"id": "x", "token": ["a"]}]), encoding="utf-8")
    with pytest.raises(DatasetError, match="record 0 lacks TACRED fields"):
        load_dataset("tacred", tmp_path, "dev")
    (tmp_path / "conll04_dev.json").write_text(json.dumps([{"tokens": ["a"], "tags": ["U-Peop"],
                                                             "relations": [{"head": 0, "tail": 3, "type": "Kill"}]}]),
                                                 encoding="utf-8")
    with pytest.raises(DatasetError, match="sentence 0: a relation points past"):
        load_dataset("conll04", tmp_path, "dev")
    (tmp_path / "bin.json").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DatasetError, match="not UTF-8"):
        load_dataset("tacred", tmp_path / "bin.json", "dev")
    with pytest.raises(DatasetError, match="unknown dataset 'nope'"):
        load_dataset("nope", tmp_path, "dev")


def test_registry_lists_every_benchmark() -> None:
    names = {entry.name for entry in available()}
    assert {"semeval", "tacred", "tacrev", "retacred", "conll04", "redocred", "kgbuild-default", "jsonl"} <= names
    for entry in available():
        if entry.name == "jsonl":
            assert entry.schema == ANY_SCHEMA  # the user's own labels: the pipeline's schema
        else:
            RelationSchema.bundled(entry.schema)


@pytest.mark.data("semeval2010_task8")
def test_dev_split_is_fixed_stratified_and_disjoint() -> None:
    examples = load_dataset("semeval", data_root() / "semeval2010_task8" / "TRAIN_FILE.TXT", "train")
    train, dev = train_dev_split(examples, 0.1, seed=13)
    again_train, again_dev = train_dev_split(examples, 0.1, seed=13)
    assert [e.id for e in dev] == [e.id for e in again_dev] and len(train) == len(again_train)
    assert len(dev) == 799 and not {e.id for e in train} & {e.id for e in dev}
    assert Counter(e.label for e in dev)["Other"] == 141


def test_a_custom_dataset_registered_first_leaves_the_built_ins_visible() -> None:
    """Registering before any lookup once hid every built-in dataset; run in a fresh interpreter so the
    registry is empty when the custom loader registers."""
    import subprocess
    import sys

    probe = """
from kgbuild.datasets.registry import ANY_SCHEMA, available, get_dataset, register_dataset
register_dataset("mine", schema="default")(lambda path, split: [])
assert get_dataset("semeval").schema == "semeval"
assert get_dataset("mine").schema == "default"
try:
    register_dataset("conll04", schema="default")(lambda path, split: [])
except ValueError as exc:
    print("clash refused:", exc)
print(len(available()))
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "clash refused: dataset 'conll04' is registered twice" in out
    assert int(out.split()[-1]) >= 8
