"""The CPU kind comes from what torch reports, so the AVX2 imitation also imitates it.

The child processes run with and without ``ATEN_CPU_CAPABILITY=avx2 ONEDNN_MAX_CPU_ISA=AVX2
MKL_ENABLE_INSTRUCTIONS=AVX2``: with them, all three libraries must report AVX2. ``dtype: auto`` is
float32 on both (the reproducible format, docs/PERFORMANCE.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from kgbuild.relations.cpu_kind import BF16_FLAGS, IMITATE_AVX2, cpu_flags

CHILD = ("import json, torch\n"
         "from kgbuild.relations.cpu_kind import cpu_kind, isa_in_effect\n"
         "from kgbuild.relations.device import resolve_dtype\n"
         "print(json.dumps({'kind': cpu_kind(), 'isa': isa_in_effect(),\n"
         "                  'auto': str(resolve_dtype('auto', torch.device('cpu')))}))\n")
IMITATION_VARIABLES = tuple(IMITATE_AVX2)


def child(extra: dict[str, str]) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k not in IMITATION_VARIABLES} | extra
    run = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=180,
                         check=True)
    return dict(json.loads(run.stdout.strip().splitlines()[-1]))


def test_the_avx2_imitation_reaches_aten_onednn_and_mkl_and_the_format_choice() -> None:
    imitated = child(IMITATE_AVX2)
    assert imitated["kind"] == "AVX2" and imitated["auto"] == "torch.float32", imitated
    isa = imitated["isa"]
    assert isinstance(isa, dict) and isa["aten"] == "AVX2"
    # MKL names the ISA on Intel CPUs; on AMD it reports its generic "Intel(R) Architecture processors" path
    assert "AVX-512" not in isa["mkl"] and ("AVX2" in isa["mkl"] or "Architecture processors" in isa["mkl"]), isa
    assert "AVX2" in isa["onednn"] and "AVX-512" not in isa["onednn"] and "AMX" not in isa["onednn"], isa


def test_the_kind_names_native_bfloat16_exactly_where_the_cpu_has_it_and_auto_stays_float32() -> None:
    native = child({})
    flags = cpu_flags()
    has_bf16 = any(flags[flag] for flag in BF16_FLAGS) and flags["avx512f"]
    assert (native["kind"] == "AVX512-BF16") == has_bf16, (native, flags)
    assert native["auto"] == "torch.float32"
