"""``kgbuild calibrate``: choose the pipeline's confidence threshold on held-out dev examples."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from kgbuild.cli._common import app, configure_logging, console, user_errors
from kgbuild.cli._options import DeviceOpt, PipelineOpt, load_config
from kgbuild.workflows.calibrate import calibrate_threshold


def _precision_recall(metrics: dict[str, Any]) -> tuple[float, float]:
    standard = metrics.get("semeval_official") or metrics.get("micro") or {}
    return (standard.get("macro_precision", standard.get("precision", 0.0)),
            standard.get("macro_recall", standard.get("recall", 0.0)))


@app.command()
def calibrate(
    limit: Annotated[int | None, typer.Option(
        "--limit", help="calibrate on at most this many held-out dev examples (seeded)")] = None,
    pipeline: PipelineOpt = None,
    device: DeviceOpt = None,
) -> None:
    """Fit generator.temperature (confidences that match accuracy), then pick generator.threshold where the
    dev metric peaks, both on dev examples outside the fixed dev sample; then score the fixed dev split
    with the old and the new values."""
    configure_logging()
    config = load_config(pipeline, device=device)
    with user_errors(), console.status("labelling the held-out and the fixed dev examples"):
        result = calibrate_threshold(config, limit)
    table = Table("", "temperature", "threshold", "P", "R", "standard F1", "ECE (10 bins)", title="fixed dev split")
    for name, metrics in (("pipeline's", result.before), ("temperature only", result.tempered),
                          ("calibrated", result.after)):
        precision, recall = _precision_recall(metrics)
        table.add_row(name, f"{metrics['temperature']:.3f}", f"{metrics['threshold']:.4f}", f"{precision:.3f}",
                      f"{recall:.3f}", f"{metrics['headline_value']:.3f}", f"{metrics['ece']:.3f}")
    console.print(table)
    console.print(f"chosen on {result.calibration_examples} held-out dev examples (standard F1 there "
                  f"{result.calibration_f1:.3f}); set it in the pipeline:")
    console.print(f"generator:\n  temperature: {result.temperature:.3f}\n  threshold: {result.threshold:.4f}",
                  highlight=False)
