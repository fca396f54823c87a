"""Evaluation reports: report.json, report.md, a confusion-matrix PNG per mode, the ablation table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rich.table import Table

PAPER_NOTE = (
    "The paper-compatible score is sklearn's micro-F1 over all labels with no_relation/Other included, "
    "which is what the seed paper's code reports. For single-label data it equals accuracy, so the frequent "
    "negative class inflates it; the standard metric above excludes that class and is the one to compare."
)


def headline(dataset: str, metrics: dict[str, Any]) -> str:
    return str(metrics.get("headline") or f"{dataset}: {metrics.get('headline_value', 0.0):.3f}")


def _row(metrics: dict[str, Any]) -> list[str]:
    standard = metrics.get("semeval_official") or metrics.get("micro") or {}
    p = standard.get("macro_precision", standard.get("precision", 0.0))
    r = standard.get("macro_recall", standard.get("recall", 0.0))
    return [str(metrics.get("mode", "")), f"{p:.3f}", f"{r:.3f}", f"{metrics['headline_value']:.3f}",
            f"{metrics['paper_compatible_micro_f1']:.3f}", f"{metrics['accuracy']:.3f}",
            f"{metrics['ece']:.3f}" if "ece" in metrics else "–",
            str(metrics.get("examples", "")), f"{metrics.get('examples_per_second', 0.0):.2f}"]


_COLUMNS = ["mode", "P", "R", "standard F1", "paper-compatible micro-F1", "accuracy", "ECE (10 bins)", "examples",
            "examples/s"]


def summary_table(dataset: str, results: Sequence[dict[str, Any]]) -> Table:
    table = Table(*_COLUMNS, title=results[0]["headline_name"] if results else dataset)
    for metrics in results:
        table.add_row(*_row(metrics))
    return table


_PER_RELATION = ["relation", "P", "R", "F1", "support"]


def _per_relation_rows(metrics: dict[str, Any]) -> list[list[str]]:
    """SemEval's 9 direction-merged relations where present, else every label."""
    per = (metrics.get("semeval_official") or {}).get("per_relation") or metrics["per_label"]
    return [[label, f"{v['precision']:.3f}", f"{v['recall']:.3f}", f"{v['f1']:.3f}", str(v["support"])]
            for label, v in per.items()]


def per_relation_table(metrics: dict[str, Any]) -> Table:
    table = Table(*_PER_RELATION, title=f"{metrics.get('mode', '')}: per relation")
    for row in _per_relation_rows(metrics):
        table.add_row(*row)
    return table


def _markdown_table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *["| " + " | ".join(row) + " |" for row in rows]]


def write_report(out: Path, dataset: str, results: Sequence[dict[str, Any]]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(list(results), indent=2, sort_keys=True), encoding="utf-8")
    lines = [f"# Evaluation on {dataset}", "", f"Standard metric: **{results[0]['headline_name']}**.", ""]
    lines += _markdown_table(_COLUMNS, [_row(m) for m in results])
    lines += ["", PAPER_NOTE, ""]
    for metrics in results:
        mode = metrics.get("mode", "result")
        lines += [f"## {mode}: per relation", ""]
        lines += _markdown_table(_PER_RELATION, _per_relation_rows(metrics))
        png = out / f"confusion-{mode}.png"
        plot_confusion(metrics["labels"], metrics["confusion"], png, f"{dataset} ({mode})")
        lines += ["", f"![confusion matrix]({png.name})", ""]
    (out / "report.md").write_text("\n".join(lines), encoding="utf-8")


def plot_confusion(labels: Sequence[str], matrix: Sequence[Sequence[int]], out: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = max(5.0, 0.45 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels=list(labels), rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels=list(labels), fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("gold")
    ax.set_title(title)
    for i, row in enumerate(matrix):
        for j, value in enumerate(row):
            if value:
                ax.text(j, i, str(value), ha="center", va="center", fontsize=6)
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
