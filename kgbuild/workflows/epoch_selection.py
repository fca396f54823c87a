"""Choose the checkpoint to ship on the dev split: evaluate after every epoch, keep the best.

Training loss keeps falling after dev quality has peaked, so the last step is not always the
best adapter. Each epoch's adapter and dev metrics are kept in ``epochs/epoch-NNN/`` until the
run ends, so a resumed run does not evaluate an epoch twice.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgbuild.config import PipelineConfig
from kgbuild.relations.lora_trainer import LoRATrainer
from kgbuild.types import CandidatePair
from kgbuild.workflows.evaluate import evaluate_examples

log = logging.getLogger(__name__)


@dataclass
class EpochSelector:
    artefact: PipelineConfig  # the artefact's pipeline; its adapter is swapped for each epoch's
    dataset: str
    dev: Sequence[CandidatePair]
    folder: Path  # <artefact>/epochs

    def evaluate(self, epoch: int, trainer: LoRATrainer) -> None:
        """Save this epoch's adapter and score it on dev (skipped when a resumed run already did)."""
        target = self.folder / f"epoch-{epoch:03d}"
        if (target / "dev_metrics.json").exists():
            return
        trainer.save(target / "adapter")
        generator = self.artefact.generator.model_copy(update={"adapter": str(target / "adapter")})
        metrics = evaluate_examples(self.artefact.model_copy(update={"generator": generator}), self.dataset,
                                    self.dev, mode="rag-fine-tuned").metrics
        (target / "dev_metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True), encoding="utf-8")
        log.info("epoch %d: %s", epoch, metrics.get("headline"))

    def scores(self) -> dict[int, dict[str, Any]]:
        found = {}
        for path in sorted(self.folder.glob("epoch-*/dev_metrics.json")):
            found[int(path.parent.name.removeprefix("epoch-"))] = json.loads(path.read_text(encoding="utf-8"))
        return found

    def ship_best(self, out: Path, final: dict[str, Any]) -> tuple[dict[str, Any], int | None]:
        """The best of the epochs and the final adapter (the final one wins ties) goes to ``out/adapter``.

        Returns the shipped metrics and epoch (None: the final adapter), and writes ``epochs.json``."""
        scores = self.scores()
        best_epoch = max(scores, key=lambda e: (scores[e]["headline_value"], -e), default=None)
        shipped, chosen = final, None
        if best_epoch is not None and scores[best_epoch]["headline_value"] > final.get("headline_value", -1.0):
            shutil.rmtree(out / "adapter", ignore_errors=True)
            shutil.copytree(self.folder / f"epoch-{best_epoch:03d}" / "adapter", out / "adapter")
            shipped, chosen = scores[best_epoch], best_epoch
        summary = [{"epoch": e, "headline_value": m["headline_value"], "headline": m.get("headline")}
                   for e, m in sorted(scores.items())]
        (out / "epochs.json").write_text(json.dumps({"epochs": summary, "shipped_epoch": chosen}, indent=2),
                                         encoding="utf-8")
        shutil.rmtree(self.folder, ignore_errors=True)
        return shipped, chosen
