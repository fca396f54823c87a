"""LoRA fine-tuning of the RAG generator (causal or seq2seq) through peft.

The training text is byte-identical to what inference scores: ``RagPrompter.static``, then
``RagPrompter.prompts`` with examples retrieved from the training bank (the example's own
sentence excluded), then the label tokens and EOS. Loss is on the label tokens only.

For causal models the static prefix is encoded once per step without gradients and reused as
a KV cache, exactly as at inference; only the pair-dependent tokens carry gradients. That
halves the cost per step on CPU and changes nothing at inference time.
"""

from __future__ import annotations

import json
import logging
import math
import random
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from kgbuild.relations import encoding
from kgbuild.relations.device import model_device, to_device, training_precision
from kgbuild.relations.models import LoadedModel, attach_adapter, load_model
from kgbuild.relations.prompt import PairPrompt

log = logging.getLogger(__name__)

ATTENTION_PROJECTIONS = ["q_proj", "k_proj", "v_proj", "o_proj"]  # Llama, SmolLM2, Gemma, Mistral, Qwen
MINILM_TARGETS = ["query", "key", "value"]  # BERT-style encoder-decoder; its new cross-attention trains whole


def default_targets(model: Any, base_model: str) -> list[str] | None:
    """All four attention projections where the model has them; else peft's per-architecture default
    (``None``), which knows T5's ``q``/``v``, BART's ``q_proj``/``v_proj`` and the rest."""
    if base_model == "minilm-encdec":
        return MINILM_TARGETS
    names = {name.rsplit(".", 1)[-1] for name, _ in model.named_modules()}
    return ATTENTION_PROJECTIONS if set(ATTENTION_PROJECTIONS) <= names else None


@dataclass
class TrainExample:
    prompt: PairPrompt  # RagPrompter.prompts(...) for this example
    label_index: int


@dataclass
class TrainState:
    step: int = 0
    epoch: int = 0
    position: int = 0  # index into the epoch's shuffled order


def _truncate_log(path: Path, step: int) -> None:
    if not path.exists():
        return
    lines = [line for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and json.loads(line)["step"] <= step]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


@dataclass(frozen=True)
class TrainingTotals:
    """Wall-clock seconds and tokens of the logged steps, summed over resumed runs."""

    steps: int
    seconds: float
    tokens: int

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


def training_totals(path: Path) -> TrainingTotals:
    """Each run's clock and token count restart at 0, so a drop marks a resumed run whose totals are banked."""
    if not path.exists():
        return TrainingTotals(0, 0.0, 0)
    banked = TrainingTotals(0, 0.0, 0)  # finished runs
    last = TrainingTotals(0, 0.0, 0)  # the latest record of the run being read
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        record = json.loads(line)
        seconds = float(record["seconds"])
        if seconds < last.seconds:
            banked = TrainingTotals(0, banked.seconds + last.seconds, banked.tokens + last.tokens)
        last = TrainingTotals(int(record["step"]), seconds, int(record.get("tokens", 0)))
    return TrainingTotals(last.steps, banked.seconds + last.seconds, banked.tokens + last.tokens)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class LoRATrainer:
    """Owns the model being trained; checkpoints make an interrupted run resumable."""

    def __init__(self, base_model: str, kind: str, labels: Sequence[str], static_prefix: str, *,
                 lora_r: int, lora_alpha: int, lora_dropout: float, target_modules: list[str] | None,
                 learning_rate: float, max_prompt_tokens: int, seed: int, dtype: str = "float32",
                 device: str = "auto", init_adapter: str | None = None) -> None:
        from peft import LoraConfig, TaskType, get_peft_model

        seed_everything(seed)
        self.loaded: LoadedModel = load_model(base_model, kind=kind, dtype=dtype, trainable=True,  # type: ignore[arg-type]
                                              device=device)
        self.device = model_device(self.loaded.model)
        self.tokens_fed = 0  # tokens the model processed (padding excluded), for tokens/s
        self._step_prefix: encoding.PrefixKV | None = None  # within one optimiser step the weights do not change
        self.kind = self.loaded.kind
        tokenizer = self.loaded.tokenizer
        self.label_ids = encoding.label_token_ids(tokenizer, labels)
        self.static_ids = tokenizer(static_prefix, add_special_tokens=False).input_ids
        self.budget = encoding.dynamic_budget(tokenizer, len(self.static_ids), max_prompt_tokens, self.kind)
        targets = target_modules or default_targets(self.loaded.model, base_model)
        extra: dict[str, Any] = {}
        if self.kind == "seq2seq" and base_model == "minilm-encdec":
            extra["modules_to_save"] = ["crossattention"]
        config = LoraConfig(
            r=lora_r, lora_alpha=lora_alpha, lora_dropout=lora_dropout, target_modules=targets,
            task_type=TaskType.SEQ_2_SEQ_LM if self.kind == "seq2seq" else TaskType.CAUSAL_LM, **extra,
        )
        # continuing from a trained adapter keeps what it knew; its own LoRA settings then apply
        self.model = (attach_adapter(self.loaded.model, init_adapter, trainable=True) if init_adapter
                      else get_peft_model(self.loaded.model, config))
        self.model.train()
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=learning_rate, weight_decay=0.0)
        self.trainable_parameters = sum(p.numel() for p in params)

    # -- one step -------------------------------------------------------------------------
    def encode(self, example: TrainExample) -> list[int]:
        """The example's pair-dependent tokens, tokenised and truncated exactly as the scorer does."""
        prompt = example.prompt
        return encoding.fit_sentence(self.loaded.tokenizer, prompt.sentence, [prompt.pair], self.budget).row(0)

    def loss(self, batch: Sequence[TrainExample]) -> torch.Tensor:
        with training_precision(self.device):
            if self.kind == "causal":
                return self._causal_loss(batch)
            return self._seq2seq_loss(batch)

    def _causal_loss(self, batch: Sequence[TrainExample]) -> torch.Tensor:
        tokenizer, model = self.loaded.tokenizer, self.model
        sequences, targets = [], []
        for example in batch:
            dynamic = self.encode(example)
            label = self.label_ids[example.label_index]
            sequences.append(dynamic + label)
            # targets[i] is the token logits[i] must predict: only the label tokens count.
            targets.append([-100] * (len(dynamic) - 1) + label + [-100])
        inputs = to_device(encoding.prefixed_batch(sequences, len(self.static_ids), tokenizer.pad_token_id or 0),
                           self.device)
        self.tokens_fed += sum(map(len, sequences))
        # Rows are left-padded, so every label sits at the right end: only the last ``keep`` positions need
        # logits. Projecting just those onto the vocabulary saves most of a step's time and memory.
        keep = max(len(self.label_ids[e.label_index]) for e in batch) + 1
        labels = to_device(encoding.prefixed_batch(targets, 0, -100).input_ids[:, -keep:], self.device)
        prefix_kv = self._step_prefix if self._step_prefix is not None else self._encode_static()
        logits = model(input_ids=inputs.input_ids, attention_mask=inputs.attention_mask, position_ids=inputs.positions,
                       past_key_values=encoding.prefix_cache(model, prefix_kv, len(batch)), use_cache=True,
                       logits_to_keep=keep).logits
        return torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), labels.reshape(-1),
                                                 ignore_index=-100)

    def _encode_static(self) -> encoding.PrefixKV | None:
        """The static prefix's keys and values, without gradients, as inference caches them."""
        if not self.static_ids:
            return None
        self.tokens_fed += len(self.static_ids)
        with training_precision(self.device):
            return encoding.encode_prefix(self.model, self.static_ids)

    def _seq2seq_loss(self, batch: Sequence[TrainExample]) -> torch.Tensor:
        tokenizer, model = self.loaded.tokenizer, self.model
        pad = tokenizer.pad_token_id or 0
        dynamic = [self.encode(e) for e in batch]
        input_ids, attention_mask = encoding.seq2seq_batch(tokenizer, self.static_ids, dynamic, pad)
        self.tokens_fed += int(attention_mask.sum())
        start = encoding.decoder_start_id(self.loaded.model)
        labels = [self.label_ids[e.label_index] for e in batch]
        width = max(len(x) for x in labels)
        decoder_in = torch.full((len(batch), width), pad, dtype=torch.long)
        target = torch.full((len(batch), width), -100, dtype=torch.long)
        for row, lab in enumerate(labels):
            decoder_in[row, :len(lab)] = torch.tensor([start, *lab[:-1]])
            target[row, :len(lab)] = torch.tensor(lab)
        self.tokens_fed += sum(map(len, labels))
        inputs = to_device({"input_ids": input_ids, "attention_mask": attention_mask, "decoder_input_ids": decoder_in},
                           self.device)
        logits = model(**inputs).logits
        target = to_device(target, self.device)
        return torch.nn.functional.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), target.reshape(-1),
                                                 ignore_index=-100)

    # -- loop -----------------------------------------------------------------------------
    def train(self, examples: Sequence[TrainExample], *, batch_size: int, grad_accumulation: int, epochs: float,
              max_steps: int | None, seed: int, checkpoints: Path, save_every: int, log_path: Path,
              on_step: Callable[[int, int, float], None] | None = None,
              on_epoch_end: Callable[[int], None] | None = None) -> TrainState:
        """``on_epoch_end(n)`` runs after the step that completes epoch ``n`` (1-based)."""
        steps_per_epoch = max(1, math.ceil(len(examples) / (batch_size * grad_accumulation)))
        total = max_steps if max_steps is not None else max(1, math.ceil(steps_per_epoch * epochs))
        state = self._resume(checkpoints)
        order = self._epoch_order(len(examples), seed, state.epoch)
        log_path.parent.mkdir(parents=True, exist_ok=True)
        _truncate_log(log_path, state.step)  # steps after the checkpoint are redone; drop their old lines
        started = time.perf_counter()
        with log_path.open("a", encoding="utf-8") as log_file:
            while state.step < total:
                self.optimizer.zero_grad()
                loss_sum = 0.0
                self._step_prefix = self._encode_static() if self.kind == "causal" else None  # once per step
                for _ in range(grad_accumulation):
                    if state.position >= len(order):
                        state.epoch += 1
                        state.position = 0
                        order = self._epoch_order(len(examples), seed, state.epoch)
                    batch = [examples[i] for i in order[state.position:state.position + batch_size]]
                    state.position += batch_size
                    loss = self.loss(batch) / grad_accumulation
                    loss.backward()
                    loss_sum += float(loss.item())
                torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad], 1.0)
                self.optimizer.step()
                self._step_prefix = None  # the weights changed
                state.step += 1
                record = {"step": state.step, "epoch": state.epoch, "loss": round(loss_sum, 5),
                          "seconds": round(time.perf_counter() - started, 2), "tokens": self.tokens_fed}
                log_file.write(json.dumps(record) + "\n")
                log_file.flush()
                if on_step is not None:
                    on_step(state.step, total, loss_sum)
                if on_epoch_end is not None and state.position >= len(order):
                    on_epoch_end(state.epoch + 1)
                if state.step % save_every == 0 or state.step == total:
                    self._checkpoint(checkpoints, state)
        return state

    @staticmethod
    def _epoch_order(size: int, seed: int, epoch: int) -> list[int]:
        order = list(range(size))
        random.Random(seed * 1_000_003 + epoch).shuffle(order)
        return order

    def _checkpoint(self, folder: Path, state: TrainState) -> None:
        target = folder / f"step-{state.step:06d}"
        tmp = folder / f".tmp-step-{state.step:06d}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        self.model.save_pretrained(str(tmp))
        torch.save({"optimizer": self.optimizer.state_dict(), "torch_rng": torch.get_rng_state()},
                   tmp / "trainer.pt")
        (tmp / "state.json").write_text(json.dumps(state.__dict__), encoding="utf-8")
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)  # a checkpoint exists whole or not at all
        for old in sorted(folder.glob("step-*"))[:-2]:
            shutil.rmtree(old, ignore_errors=True)

    def _resume(self, folder: Path) -> TrainState:
        checkpoints = sorted(folder.glob("step-*")) if folder.exists() else []
        if not checkpoints:
            return TrainState()
        latest = checkpoints[-1]
        from peft import set_peft_model_state_dict
        from safetensors.torch import load_file

        weights = latest / "adapter_model.safetensors"
        set_peft_model_state_dict(self.model, load_file(str(weights)))
        saved = torch.load(latest / "trainer.pt", weights_only=False)
        self.optimizer.load_state_dict(saved["optimizer"])
        torch.set_rng_state(saved["torch_rng"])
        state = TrainState(**json.loads((latest / "state.json").read_text(encoding="utf-8")))
        log.info("resuming from %s (step %d)", latest, state.step)
        return state

    def save(self, folder: Path) -> None:
        """The LoRA weights and their config only: inference loads the tokenizer from the base model."""
        folder.mkdir(parents=True, exist_ok=True)
        self.model.save_pretrained(str(folder))
