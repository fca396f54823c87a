"""Int8 Linear layers for CPU inference (``generator.dtype: int8``): per-token activations, per-channel weights.

Why not ``torch.ao.quantization.quantize_dynamic``: it scales activations per tensor, so a pair's answer
would depend on which other pairs share its forward pass. Why not torchao's
``Int8DynamicActivationInt8WeightConfig``: in eager mode its tensor-subclass dispatch costs more than the
int8 matmul saves (measured 1.31x float32 on AVX512-VNNI and 1.07x on AVX2, this module about 2x and
1.2x; docs/PERFORMANCE.md). All three run oneDNN's int8 matmul, here through ``torch._int_mm``.

Why weights in 7 bits ([-63, 63]) and activations in 8: without VNNI, oneDNN shifts int8 activations to
uint8 and multiplies pairs into saturating 16-bit sums; 2 x 255 x 63 still fits, 2 x 255 x 127 does not.
So every integer sum is exact on every CPU kind, and each layer's output is bitwise the same on AVX2
and AVX-512 (full-range weights give different, wrong integers on AVX2).

Opt-in, not what ``auto`` picks (docs/PERFORMANCE.md, "A quantised CPU path"): dev quality falls 2.7 and
4.3 points on the default and CoNLL04 pipelines, it is 1.46x float32 only where VNNI exists (no gain on
AVX2), and the model amplifies float32 rounding in attention into different answers when pairs share a
forward pass differently, so like bfloat16 it gives up the float32 determinism guarantees.
"""

from __future__ import annotations

from typing import Any

import torch

WEIGHT_LEVELS = 63  # 7-bit: exact int32 sums on CPUs without VNNI, see the module docstring
ACTIVATION_LEVELS = 127
SMALLEST_SCALE = 1e-12  # an all-zero row or channel quantises to zeros, not NaN


class Int8Linear(torch.nn.Module):
    """A frozen ``nn.Linear`` whose matmul runs in int8. Each token's row gets its own scale, so a row's
    output never depends on the other rows of the batch."""

    weight_int8: torch.Tensor
    weight_scale: torch.Tensor
    bias: torch.Tensor | None

    def __init__(self, linear: torch.nn.Linear) -> None:
        super().__init__()
        weight = linear.weight.detach().float()
        scale = weight.abs().amax(dim=1, keepdim=True).clamp_min(SMALLEST_SCALE) / WEIGHT_LEVELS
        self.in_features, self.out_features = linear.in_features, linear.out_features
        self.register_buffer("weight_int8", torch.round(weight / scale).to(torch.int8).t().contiguous())
        self.register_buffer("weight_scale", scale.t().contiguous())
        self.register_buffer("bias", None if linear.bias is None else linear.bias.detach().float().clone())

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        rows = hidden.reshape(-1, self.in_features).float()
        scale = rows.abs().amax(dim=1, keepdim=True).clamp_min(SMALLEST_SCALE).div_(ACTIVATION_LEVELS)
        quantised = torch.round(rows / scale).to(torch.int8)
        out = torch._int_mm(quantised, self.weight_int8).float().mul_(scale).mul_(self.weight_scale)
        if self.bias is not None:
            out += self.bias
        return out.reshape(*hidden.shape[:-1], self.out_features).to(hidden.dtype)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}"


def quantise_linear_layers(model: Any, keep: tuple[str, ...] = ("lm_head",)) -> int:
    """Replace, in place, every ``nn.Linear`` of a float32 model (its adapter already merged) except those
    named in ``keep``; returns how many were replaced.

    The output projection stays float32: under ``logits_to_keep`` it is a small share of the time, and
    its logits decide between labels directly."""
    replaced = 0
    for name, child in list(model.named_children()):
        if name in keep:
            continue
        if isinstance(child, torch.nn.Linear):
            setattr(model, name, Int8Linear(child))
            replaced += 1
        else:
            replaced += quantise_linear_layers(child, keep)
    return replaced
