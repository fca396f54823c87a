"""Metrics against hand-computed cases, including SemEval's direction rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgbuild.evaluation.metrics import (
    accuracy,
    confusion,
    micro_prf,
    paper_compatible_micro_f1,
    semeval_official,
    standard_metrics,
)
from kgbuild.evaluation.report import write_report
from kgbuild.schema import RelationSchema


def test_tacred_micro_excludes_no_relation() -> None:
    gold = ["per:title", "per:title", "no_relation", "org:founded", "no_relation"]
    pred = ["per:title", "no_relation", "per:title", "org:founded", "no_relation"]
    m = micro_prf(gold, pred, "no_relation")
    # correct = 2 (title, founded); guessed = 3 non-negative predictions; gold = 3 non-negative.
    assert (m["correct"], m["guessed"], m["gold"]) == (2, 3, 3)
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 / 3)
    assert micro_prf(["no_relation"], ["no_relation"], "no_relation")["f1"] == 0.0


def test_semeval_direction_rule() -> None:
    gold = ["Cause-Effect(e1,e2)", "Cause-Effect(e1,e2)", "Cause-Effect(e2,e1)", "Component-Whole(e1,e2)", "Other"]
    pred = ["Cause-Effect(e1,e2)", "Cause-Effect(e2,e1)", "Cause-Effect(e2,e1)", "Other", "Component-Whole(e1,e2)"]
    m = semeval_official(gold, pred)
    ce, cw = m["per_relation"]["Cause-Effect"], m["per_relation"]["Component-Whole"]
    # Cause-Effect: 2 correct (rows 1 and 3); the wrong direction (row 2) counts against both P and R.
    assert ce["precision"] == pytest.approx(2 / 3) and ce["recall"] == pytest.approx(2 / 3)
    # Component-Whole: 0 correct of 1 gold; 1 proposed (from an Other sentence).
    assert (cw["precision"], cw["recall"], cw["f1"]) == (0.0, 0.0, 0.0)
    assert set(m["per_relation"]) == {"Cause-Effect", "Component-Whole"}  # Other excluded
    assert m["macro_f1"] == pytest.approx((2 / 3 + 0.0) / 2)
    # micro: correct 2, proposed 4 non-Other, gold 4 non-Other
    assert m["micro_precision"] == pytest.approx(0.5) and m["micro_recall"] == pytest.approx(0.5)


def test_paper_compatible_metric_is_accuracy_and_flatters() -> None:
    gold = ["no_relation"] * 8 + ["per:title", "org:founded"]
    pred = ["no_relation"] * 10
    assert paper_compatible_micro_f1(gold, pred) == pytest.approx(0.8) == accuracy(gold, pred)
    assert micro_prf(gold, pred, "no_relation")["f1"] == 0.0


def test_confusion_rows_are_gold() -> None:
    assert confusion(["a", "a", "b"], ["a", "b", "b"], ["a", "b"]) == [[1, 1], [0, 1]]
    with pytest.raises(ValueError, match="2 gold labels but 1 predictions"):
        confusion(["a", "b"], ["a"], ["a", "b"])
    with pytest.raises(ValueError, match="outside the schema's label set: 'c'"):
        confusion(["a", "c"], ["a", "b"], ["a", "b"])


def test_standard_metrics_headlines_and_report(tmp_path: Path) -> None:
    semeval = RelationSchema.bundled("semeval")
    gold = ["Cause-Effect(e1,e2)", "Other", "Message-Topic(e1,e2)"]
    pred = ["Cause-Effect(e1,e2)", "Other", "Other"]
    m = standard_metrics("semeval", gold, pred, semeval)
    assert m["headline"] == "semeval macro-F1 (official, 9 relations): 0.500"
    tacred = standard_metrics("tacrev", ["no_relation", "per:title"], ["per:title", "per:title"],
                              RelationSchema.bundled("tacred"))
    assert tacred["headline"] == "tacrev micro-F1 (no_relation excluded): 0.667"
    m["mode"] = "rag-fine-tuned"
    write_report(tmp_path, "semeval", [m])
    text = (tmp_path / "report.md").read_text(encoding="utf-8")
    assert "paper-compatible" in text and "Cause-Effect" in text
    assert (tmp_path / "report.json").exists() and (tmp_path / "confusion-rag-fine-tuned.png").stat().st_size > 1000
