"""Where a model runs and in which number format, decided in one place for ingest, training and eval.

``auto`` picks the first CUDA device when torch sees one, else the CPU. Tensors reach the model's
device through :func:`to_device` only, so a CPU-built batch never meets a GPU model by accident.
"""

from __future__ import annotations

import contextlib
import dataclasses
import platform
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypeVar

import torch

from kgbuild.config import DEVICE_PATTERN
from kgbuild.errors import ConfigError
from kgbuild.relations.cpu_kind import cpu_kind

T = TypeVar("T")


def resolve_device(spec: str = "auto") -> torch.device:
    """``auto``, ``cpu``, ``cuda`` or ``cuda:N``; asking for a GPU that is not there is a clear error."""
    if not re.match(DEVICE_PATTERN, spec):
        raise ConfigError(f"device must be auto, cpu, cuda or cuda:N, not {spec!r}")
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(spec)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ConfigError(f"device {spec!r} asked for, but torch {torch.__version__} sees no CUDA device "
                              "(use --device cpu, or auto)")
        if (device.index or 0) >= torch.cuda.device_count():
            raise ConfigError(f"device {spec!r} asked for, but only {torch.cuda.device_count()} CUDA device(s) exist")
    return device


def resolve_dtype(dtype: str, device: torch.device | None = None) -> torch.dtype:
    """Inference weights. ``auto``: bfloat16 on a GPU that has it (else float16); float32 on every CPU.

    On a CPU, float32 is the one format whose labels do not depend on the thread count, the executor or
    the CPU kind: measured on the docs pairs, bfloat16 (oneDNN, AVX512-BF16/AMX) moved confidences by
    up to 0.05 and flipped labels between 1 and 2 threads, float32 by under 1e-5 (docs/PERFORMANCE.md,
    "Determinism"). ``bfloat16`` stays available, about 2x faster where it is native (see
    :func:`cpu_kind.native_bf16`), for users who accept that. ``int8`` loads float32 weights, which
    :mod:`kgbuild.relations.int8` then quantises."""
    if dtype == "int8":
        return torch.float32
    if dtype != "auto":
        return getattr(torch, dtype)
    device = device or resolve_device("auto")
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float32


def number_format(dtype: str, device: str) -> str:
    """What the relation model computes in, for the ingest summary: ``bfloat16 on cpu (AVX512-BF16)``."""
    target = resolve_device(device)
    chosen = "int8" if dtype == "int8" else str(resolve_dtype(dtype, target)).removeprefix("torch.")
    return f"{chosen} on {target} ({cpu_kind() if target.type == 'cpu' else torch.cuda.get_device_name(target)})"


def to_device(value: T, device: torch.device) -> T:
    """Tensors, and tensors inside tuples, lists, dicts and dataclasses, on ``device``; the rest as it is."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        moved = {f.name: to_device(getattr(value, f.name), device) for f in dataclasses.fields(value)}
        return dataclasses.replace(value, **moved)
    if isinstance(value, torch.Tensor):
        return value.to(device, non_blocking=True)  # type: ignore[return-value]
    if isinstance(value, tuple | list):
        return type(value)(to_device(item, device) for item in value)
    if isinstance(value, dict):
        return {key: to_device(item, device) for key, item in value.items()}  # type: ignore[return-value]
    return value


@contextlib.contextmanager
def training_precision(device: torch.device) -> Iterator[None]:
    """bfloat16 autocast on a GPU (float32 master weights and optimiser); plain float32 on a CPU."""
    if device.type == "cuda" and torch.cuda.is_bf16_supported():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            yield
    else:
        yield


def cpu_name() -> str:
    """The processor's model name (``platform.processor()`` is empty on Linux)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe(device: torch.device) -> str:
    """The hardware, for model cards and benchmark reports."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    return f"{cpu_name()}, {torch.get_num_threads()} CPU threads"


def model_device(model: Any) -> torch.device:
    return next(model.parameters()).device
