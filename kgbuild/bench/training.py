"""Training throughput: kgbuild's LoRA step against a bare forward+backward pass of the same tokens.

    python -m kgbuild.bench.training [--pipeline pipelines/semeval-rag-lora.yaml] [--steps 6] [--device auto]

Both sides run the pipeline's real prompts (retrieved examples included) with the same model, batch
and LoRA configuration. The bare pass feeds each row's tokens (static prefix, examples, sentence,
pair and label) through the model once and back-propagates a loss over the label positions, with
no cache, no optimiser and no bookkeeping. tokens/s counts the tokens a side feeds. The seconds per
epoch are the median step time times the steps in one epoch of the pipeline's training split.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from kgbuild.bench.common import report
from kgbuild.config import load_pipeline
from kgbuild.datasets.splits import load_training_data, training_section
from kgbuild.relations.device import describe, resolve_device, to_device
from kgbuild.relations.lora_trainer import LoRATrainer, TrainExample
from kgbuild.relations.rag_prompter import RagPrompter
from kgbuild.workflows.train import schedule_for

REPO = Path(__file__).resolve().parents[2]


def timed_steps(step: Callable[[], int], steps: int, device: torch.device) -> tuple[float, int]:
    """Median seconds per step after one warm-up step, and the tokens one step feeds."""
    step()
    seconds, tokens = [], 0
    for _ in range(steps):
        started = time.perf_counter()
        tokens = step()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds.append(time.perf_counter() - started)
    return statistics.median(seconds), tokens


def bare_step(trainer: LoRATrainer, batch: Sequence[TrainExample]) -> int:
    """One plain forward+backward over every row's whole token sequence, left-padded."""
    rows, targets = [], []
    for example in batch:
        label = trainer.label_ids[example.label_index]
        rows.append([*trainer.static_ids, *trainer.encode(example), *label])
        targets.append(label)
    width = max(map(len, rows))
    pad = trainer.loaded.tokenizer.pad_token_id or 0
    ids = torch.full((len(rows), width), pad, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    labels = torch.full((len(rows), width), -100, dtype=torch.long)
    for row, (seq, label) in enumerate(zip(rows, targets, strict=True)):
        ids[row, width - len(seq):] = torch.tensor(seq)
        mask[row, width - len(seq):] = 1
        labels[row, width - len(label) - 1:width - 1] = torch.tensor(label)  # logits[i] predicts token i + 1
    inputs = to_device({"input_ids": ids, "attention_mask": mask}, trainer.device)
    logits = trainer.model(**inputs).logits
    loss = torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]),
                                             to_device(labels, trainer.device).reshape(-1), ignore_index=-100)
    loss.backward()
    trainer.model.zero_grad(set_to_none=True)
    return int(mask.sum())


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pipeline", type=Path, default=REPO / "pipelines" / "semeval-rag-lora.yaml")
    parser.add_argument("--steps", type=int, default=6, help="timed steps per side (after one warm-up)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    config = load_pipeline(args.pipeline).with_overrides(device=args.device)
    training, gen, schema = training_section(config), config.generator, config.load_schema()
    device = resolve_device(gen.device)
    schedule = schedule_for(training, device, training.max_steps)
    data = load_training_data(config)
    prompter = RagPrompter.from_config(config, schema)
    batch_size = schedule.batch_size
    pairs = data.train[:batch_size * (args.steps + 1)]
    index = {label: i for i, label in enumerate(schema.all_labels)}
    examples = [TrainExample(prompt, index[str(pair.label)])
                for prompt, pair in zip(prompter.prompts(pairs, exclude_same_text=True), pairs, strict=True)]
    trainer = LoRATrainer(gen.model, gen.kind, schema.all_labels, prompter.static, lora_r=training.lora_r,
                          lora_alpha=training.lora_alpha, lora_dropout=training.lora_dropout,
                          target_modules=training.target_modules, learning_rate=schedule.learning_rate,
                          max_prompt_tokens=gen.max_prompt_tokens, seed=training.seed, device=str(device))
    batches = [examples[i:i + batch_size] for i in range(0, len(examples), batch_size)]
    cursor = {"kgbuild": 0, "bare": 0}

    def kgbuild_step() -> int:
        batch = batches[cursor["kgbuild"] % len(batches)]
        cursor["kgbuild"] += 1
        before = trainer.tokens_fed
        trainer.optimizer.zero_grad()
        trainer.loss(batch).backward()
        trainer.optimizer.step()
        return trainer.tokens_fed - before

    def plain_step() -> int:
        batch = batches[cursor["bare"] % len(batches)]
        cursor["bare"] += 1
        return bare_step(trainer, batch)

    step_s, step_tokens = timed_steps(kgbuild_step, args.steps, device)
    bare_s, bare_tokens = timed_steps(plain_step, args.steps, device)
    steps_per_epoch = math.ceil(len(data.train) / (batch_size * training.grad_accumulation))
    result = {"pipeline": config.name, "device": describe(device), "batch_size": batch_size,
              "step_s": step_s, "tokens_per_step": step_tokens, "tokens_per_s": step_tokens / step_s,
              "bare_step_s": bare_s, "bare_tokens_per_step": bare_tokens, "bare_tokens_per_s": bare_tokens / bare_s,
              "speedup_vs_bare": bare_s / step_s, "train_examples": len(data.train),
              "steps_per_epoch": steps_per_epoch, "epoch_s": step_s * steps_per_epoch}
    rows = [[result["pipeline"], result["device"], batch_size, step_s, result["tokens_per_s"], bare_s,
             result["bare_tokens_per_s"], result["speedup_vs_bare"], result["epoch_s"]]]
    return report("training", ["pipeline", "device", "batch", "step s", "tokens/s", "bare step s", "bare tokens/s",
                               "step vs bare", "s per epoch"], rows, result, args.out)


if __name__ == "__main__":
    main()
