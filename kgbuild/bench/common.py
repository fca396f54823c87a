"""What every benchmark shares: the machine and versions, medians of repeated runs, a table and a JSON file.

Every comparison a benchmark reports is measured in the same process, on the same machine, in the same run.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, TypeVar

from rich.console import Console
from rich.table import Table

T = TypeVar("T")
PACKAGES = ("torch", "transformers", "peft", "sentence-transformers", "faiss-cpu", "spacy", "ladybug", "neo4j")


def machine() -> dict[str, Any]:
    """Where a figure was measured: processor, its kind and flags (and what torch, oneDNN and MKL use of
    them), cores, threads and package versions."""
    import torch

    from kgbuild.relations.cpu_kind import describe_cpu
    from kgbuild.relations.device import cpu_name

    cpu = cpu_name()
    versions: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"cpu": cpu, **{f"cpu_{k}": v for k, v in describe_cpu().items()}, "cores": os.cpu_count(),
            "torch_threads": torch.get_num_threads(),
            "python": platform.python_version(), "platform": platform.platform(), "versions": versions,
            "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def timed_median(run: Callable[[], T], repeats: int) -> tuple[float, list[float], T]:
    """Median wall-clock seconds of ``repeats`` runs, every run's seconds, and the last run's result."""
    seconds: list[float] = []
    result: T | None = None
    for _ in range(max(1, repeats)):
        started = time.perf_counter()
        result = run()
        seconds.append(time.perf_counter() - started)
    assert result is not None
    return statistics.median(seconds), seconds, result


def report(name: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], payload: dict[str, Any],
           out: Path | None) -> dict[str, Any]:
    """Print the table, add the machine to ``payload`` and write it as JSON (default ``runs/bench/NAME.json``)."""
    table = Table(*columns, title=name)
    for row in rows:
        table.add_row(*["–" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v) for v in row])
    Console().print(table)
    payload = {"benchmark": name, "machine": machine(), **payload}
    Console().print(f"measured on {payload['machine']['cpu']} ({payload['machine']['cpu_kind']}), "
                    f"{payload['machine']['torch_threads']} torch threads", highlight=False)
    target = out or Path("runs") / "bench" / f"{name}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(payload, indent=2, sort_keys=True, default=str), encoding="utf-8")
    Console().print(f"written to {target}")
    return payload
