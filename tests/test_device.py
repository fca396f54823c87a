"""Device and number-format selection, checked on a CPU-only machine: the choice, the errors, the schedule."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from pydantic import ValidationError
from typer.testing import CliRunner

from kgbuild.cli import app
from kgbuild.config import PipelineConfig, TrainingConfig, load_pipeline
from kgbuild.errors import ConfigError
from kgbuild.relations.device import resolve_device, resolve_dtype, to_device, training_precision
from kgbuild.relations.encoding import PrefixedBatch
from kgbuild.workflows.train import schedule_for


@pytest.fixture
def fake_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch reports one CUDA device with bfloat16 (nothing is ever placed on it)."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)


def test_auto_is_the_cpu_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu") == resolve_device("cpu")


def test_auto_picks_cuda_when_torch_sees_it(fake_gpu: None) -> None:
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(ConfigError, match="only 1 CUDA device"):
        resolve_device("cuda:1")


def test_asking_for_a_missing_gpu_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(ConfigError, match="sees no CUDA device"):
        resolve_device("cuda")
    with pytest.raises(ConfigError, match="auto, cpu, cuda or cuda:N"):
        resolve_device("tpu")


def test_dtype_auto_follows_the_device(fake_gpu: None, monkeypatch: pytest.MonkeyPatch) -> None:
    assert resolve_dtype("auto", torch.device("cuda")) == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert resolve_dtype("auto", torch.device("cuda")) == torch.float16
    assert resolve_dtype("auto", torch.device("cpu")) == torch.float32  # on every CPU: the reproducible format
    assert resolve_dtype("bfloat16", torch.device("cpu")) == torch.bfloat16
    assert resolve_dtype("float32", torch.device("cuda")) == torch.float32  # an explicit choice always wins


def test_to_device_moves_tensors_inside_containers_and_dataclasses() -> None:
    batch = PrefixedBatch(torch.ones(1, 2), torch.ones(1, 3), torch.zeros(1, 2))
    moved = to_device({"batch": batch, "ids": [torch.ones(1)], "keep": 3}, torch.device("meta"))
    assert isinstance(moved["batch"], PrefixedBatch) and moved["batch"].input_ids.device.type == "meta"
    assert moved["ids"][0].device.type == "meta" and moved["keep"] == 3
    assert batch.input_ids.device.type == "cpu"  # the original is untouched


def test_training_autocasts_to_bfloat16_on_a_gpu_only() -> None:
    layer = torch.nn.Linear(4, 4)
    with training_precision(torch.device("cpu")):
        assert layer(torch.ones(1, 4)).dtype == torch.float32


def test_a_gpu_gets_a_bigger_batch_a_scaled_learning_rate_and_fewer_steps() -> None:
    training = TrainingConfig(dataset="semeval", data="x", output="o", batch_size=8, cuda_batch_size=32,
                              learning_rate=4e-4)
    cpu = schedule_for(training, torch.device("cpu"), 300)
    assert (cpu.batch_size, cpu.learning_rate, cpu.max_steps) == (8, 4e-4, 300)
    gpu = schedule_for(training, torch.device("cuda"), 300)
    assert gpu.batch_size == 32 and gpu.learning_rate == pytest.approx(8e-4) and gpu.max_steps == 75
    assert schedule_for(training, torch.device("cuda"), None).max_steps is None  # epochs decide
    same = schedule_for(training.model_copy(update={"cuda_batch_size": None}), torch.device("cuda"), 300)
    assert (same.batch_size, same.max_steps) == (8, 300)


def test_device_flag_overrides_the_pipeline_and_is_validated(tmp_path: Path) -> None:
    config = load_pipeline()
    assert config.generator.device == "auto"
    assert config.with_overrides(device="cpu").generator.device == "cpu"
    with pytest.raises(ConfigError, match="--device"):
        config.with_overrides(device="gpu0")
    with pytest.raises(ValidationError, match="device"):
        PipelineConfig.model_validate({"generator": {"device": "gpu"}})  # the file is checked too


def test_cli_device_cuda_on_a_cpu_machine_fails_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    (tmp_path / "a.txt").write_text("Ann works for Acme.", encoding="utf-8")
    result = CliRunner().invoke(app, ["ingest", str(tmp_path), "--store-path", str(tmp_path / "g"),
                                      "--device", "cuda"])
    assert result.exit_code == 1
    assert "sees no CUDA device" in result.output and "Traceback" not in result.output
