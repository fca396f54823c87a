"""A fast stand-in for the default pipeline, for tests whose assertions compare runs with each other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent


def quick_pipeline_config(labeller: Path) -> dict[str, Any]:
    """The default pipeline with a tiny random causal LM as its labeller and no threshold.

    Every stage of ingest still runs (reading, spaCy, pronouns, the name classifier, retrieval, scoring, the
    store), at a fraction of the labelling time; for tests of crashes, executors and bad input, whose
    assertions compare runs with each other, never labels with the truth. The shipped model's labels are
    tested elsewhere (test_api, test_pipeline_e2e, test_determinism)."""
    config = yaml.safe_load((REPO / "pipelines" / "default.yaml").read_text(encoding="utf-8"))
    config.pop("training", None)
    config["generator"].update(model=str(labeller), adapter=None, threshold=0.0, temperature=1.0)
    return dict(config)
