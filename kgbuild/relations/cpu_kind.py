"""What this CPU can do, and what torch will use of it: the facts ``dtype: auto`` decides on and every speed
figure names.

torch's own report (``torch.backends.cpu.get_cpu_capability()``) comes first, because it honours
``ATEN_CPU_CAPABILITY``: with ``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
MKL_ENABLE_INSTRUCTIONS=AVX2`` a bf16-native CPU runs, and chooses its number format, as an AVX2-only one
(:func:`isa_in_effect` shows that all three libraries took the setting).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from functools import cache
from pathlib import Path

import torch

FLAGS = ("avx2", "avx512f", "avx512_bf16", "avx512_vnni", "amx_bf16", "amx_int8")
BF16_FLAGS = ("avx512_bf16", "amx_bf16")
IMITATE_AVX2 = {"ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2", "MKL_ENABLE_INSTRUCTIONS": "AVX2"}


@cache
def cpu_flags() -> dict[str, bool]:
    """The instruction-set flags that decide kgbuild's speed, as ``/proc/cpuinfo`` lists them."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return dict.fromkeys(FLAGS, False)
    line = next((line for line in text.splitlines() if line.startswith("flags")), "")
    present = set(line.partition(":")[2].split())
    return {flag: flag in present for flag in FLAGS}


def torch_capability() -> str:
    """The vector kernels torch dispatches to: ``AVX512``, ``AVX2``, ``DEFAULT``... (lowered by the variable)."""
    return str(torch.backends.cpu.get_cpu_capability())


def native_bf16() -> bool:
    """Whether bfloat16 runs natively: torch dispatches AVX512 kernels and the CPU has AVX512-BF16 or AMX.
    Elsewhere it is emulated, about 3x slower than float32 (docs/PERFORMANCE.md)."""
    flags = cpu_flags()
    return torch_capability().startswith("AVX512") and any(flags[flag] for flag in BF16_FLAGS)


def cpu_kind() -> str:
    """The kind a speed figure holds for: ``AVX512-BF16``, ``AVX512``, ``AVX2`` or torch's own word."""
    capability = torch_capability()
    if capability.startswith("AVX512"):
        return "AVX512-BF16" if native_bf16() else "AVX512"
    return capability


_PROBE = ("import torch\n"
          "a = torch.randn(32, 32); a @ a\n"  # float32 GEMM: MKL; the convolution: oneDNN (a small one: ATen)
          "torch.nn.functional.conv2d(torch.randn(8, 16, 64, 64), torch.randn(16, 16, 3, 3))\n")


@cache
def isa_in_effect() -> dict[str, str]:
    """The instruction set each library reports it uses, from a child process with their verbose modes on:
    ATen (torch's kernels), oneDNN and MKL. Each is an environment variable away from another answer."""
    env = {**os.environ, "ONEDNN_VERBOSE": "1", "MKL_VERBOSE": "1"}
    try:
        run = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=120,
                             check=False)
        output = run.stdout + run.stderr
    except (OSError, subprocess.TimeoutExpired) as exc:
        output = f"probe failed: {exc}"
    onednn = re.search(r"onednn_verbose,[^\n]*,info,cpu,isa:([^\n]+)", output)
    mkl = re.search(r"for Intel\(R\) 64 architecture (.+?)(?: enabled processors)?, Lnx", output)
    return {"aten": torch_capability(), "onednn": onednn.group(1).strip() if onednn else "unknown",
            "mkl": mkl.group(1).strip() if mkl else "unknown"}


def describe_cpu() -> dict[str, object]:
    """For benchmark reports: the kind, the flags and what each library uses."""
    return {"kind": cpu_kind(), "flags": cpu_flags(), "isa_in_effect": isa_in_effect()}
