"""Train → save → load → eval round trips on a few dozen examples, and resume after interruption."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kgbuild.config import load_pipeline
from kgbuild.training_config import data_root
from kgbuild.workflows.evaluate import run_evaluation
from kgbuild.workflows.train import run_training

SEMEVAL = data_root() / "semeval2010_task8" / "TRAIN_FILE.TXT"  # $KGBUILD_DATA, set for checkouts by conftest

pytestmark = pytest.mark.data("semeval2010_task8/TRAIN_FILE.TXT")


@pytest.fixture(scope="module")
def tiny_t5_dir(tmp_path_factory: pytest.TempPathFactory, minilm_tokenizer: Any) -> Path:
    """A tiny T5 (seq2seq, module names ``q``/``k``/``v``/``o``): peft must pick its LoRA targets itself."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    torch.manual_seed(0)
    tok = minilm_tokenizer
    config = T5Config(vocab_size=tok.vocab_size, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_heads=4,
                      pad_token_id=tok.pad_token_id, eos_token_id=tok.sep_token_id,
                      decoder_start_token_id=tok.pad_token_id)
    folder = tmp_path_factory.mktemp("tiny-t5")
    T5ForConditionalGeneration(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def write_pipeline(folder: Path, model: str, steps: int = 3) -> Path:
    out = folder / "artefact"
    config = {
        "version": 1, "name": "roundtrip", "schema": "bundled:semeval",
        "retriever": {"k": 1},
        "generator": {"model": model, "batch_size": 4, "max_prompt_tokens": 512, "device": "cpu"},
        "training": {"dataset": "semeval", "data": str(SEMEVAL), "dev_fraction": 0.1, "dev_limit": 8,
                     "limit": 40, "output": str(out), "max_steps": steps, "batch_size": 4, "save_every": 1,
                     "learning_rate": 0.001},
    }
    path = folder / "pipeline.yaml"
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


@pytest.mark.parametrize("model", ["minilm-encdec", "tiny-llama", "tiny-t5"])
def test_train_save_load_eval_round_trip(tmp_path: Path, model: str, tiny_llama_dir: Path,
                                         tiny_t5_dir: Path) -> None:
    spec = {"tiny-llama": str(tiny_llama_dir), "tiny-t5": str(tiny_t5_dir)}.get(model, model)
    out = run_training(load_pipeline(write_pipeline(tmp_path, spec))).output
    for name in ["adapter/adapter_config.json", "adapter/adapter_model.safetensors", "schema.yaml", "prompt.yaml",
                 "bank.jsonl", "pipeline.yaml", "train_log.jsonl", "dev_metrics.json",
                 "README.md"]:
        assert (out / name).exists(), name
    assert not (out / "checkpoints").exists()
    log = [json.loads(line) for line in (out / "train_log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log] == [1, 2, 3] and all(r["loss"] > 0 for r in log)
    assert sum(1 for _ in (out / "bank.jsonl").open()) == 40
    dev = json.loads((out / "dev_metrics.json").read_text())
    assert dev["examples"] == 8 and dev["headline"].startswith("semeval macro-F1 (official, 9 relations)")
    assert "Steps: 3" in (out / "README.md").read_text()

    artefact = load_pipeline(out / "pipeline.yaml")  # everything needed to predict, from one folder
    assert artefact.generator.adapter == "adapter" and artefact.retriever.bank == "bank.jsonl"
    assert artefact.generator.device == "auto"  # trained with device cpu (or cuda), the artefact runs anywhere
    report = run_evaluation(artefact, "semeval", SEMEVAL, "train", ["zero-shot", "rag-fine-tuned"], limit=6,
                            out=tmp_path / "report")
    assert [r.mode for r in report.results] == ["zero-shot", "rag-fine-tuned"]
    assert all(len(r.predictions) == 6 for r in report.results)
    assert report.headline.startswith("semeval macro-F1 (official, 9 relations): ")
    assert (tmp_path / "report" / "report.md").exists() and (tmp_path / "report" / "confusion-zero-shot.png").exists()
    if model != "tiny-llama":
        return
    from typer.testing import CliRunner

    from kgbuild.cli import app

    result = CliRunner().invoke(app, ["eval", "--pipeline", str(out / "pipeline.yaml"), "--pipeline-dev", "--mode",
                                      "all", "--limit", "5", "--out", str(tmp_path / "cli-report")])
    assert result.exit_code == 0, result.output
    assert result.output.strip().splitlines()[-1].startswith("semeval macro-F1 (official, 9 relations): ")
    assert "rag-fine-tuned: per relation" in result.output and "support" in result.output
    reported = json.loads((tmp_path / "cli-report" / "report.json").read_text())
    assert [m["mode"] for m in reported] == ["zero-shot", "fine-tuned", "rag-fine-tuned"]
    assert all(m["examples"] == 5 for m in reported)  # the artefact's own seeded dev split, limited


def test_training_resumes_from_its_last_checkpoint(tmp_path: Path, tiny_llama_dir: Path) -> None:
    from kgbuild.relations.lora_trainer import LoRATrainer, TrainExample
    from kgbuild.relations.prompt import PairPrompt

    examples = [TrainExample(PairPrompt(f"Query sentence: example {i}\n", "Relation:"), i % 3) for i in range(12)]

    def trainer() -> LoRATrainer:
        return LoRATrainer(str(tiny_llama_dir), "auto", ["a", "b", "c"], "Static prefix.\n", lora_r=4,
                           lora_alpha=8, lora_dropout=0.0, target_modules=None, learning_rate=1e-3,
                           max_prompt_tokens=64, seed=1)

    kwargs = {"batch_size": 2, "grad_accumulation": 1, "epochs": 1.0, "seed": 1, "save_every": 1,
              "checkpoints": tmp_path / "ckpt", "log_path": tmp_path / "log.jsonl"}
    assert trainer().train(examples, max_steps=2, **kwargs).step == 2  # ... then the process "dies"
    with (tmp_path / "log.jsonl").open("a") as log:  # after logging a step it never checkpointed
        log.write(json.dumps({"step": 3, "loss": 9.9}) + "\n")
    state = trainer().train(examples, max_steps=4, **kwargs)
    assert state.step == 4 and state.position == 8
    steps = [json.loads(line)["step"] for line in (tmp_path / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]


def test_every_epoch_is_scored_on_dev_and_the_best_adapter_ships(tmp_path: Path, tiny_llama_dir: Path) -> None:
    path = write_pipeline(tmp_path, str(tiny_llama_dir))
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config["training"].update({"limit": 16, "batch_size": 8, "epochs": 2, "max_steps": None, "dev_limit": 4,
                               "select_epoch": True, "save_every": 100})
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    epochs_seen: list[int] = []
    import kgbuild.workflows.epoch_selection as selection

    real = selection.EpochSelector.evaluate

    def spy(self: Any, epoch: int, trainer: Any) -> None:
        epochs_seen.append(epoch)
        real(self, epoch, trainer)

    selection.EpochSelector.evaluate = spy  # type: ignore[method-assign]
    try:
        result = run_training(load_pipeline(path))
    finally:
        selection.EpochSelector.evaluate = real  # type: ignore[method-assign]
    out = result.output
    assert epochs_seen == [1, 2] and result.steps == 4  # 16 examples, batch 8: two steps per epoch
    summary = json.loads((out / "epochs.json").read_text())
    assert [e["epoch"] for e in summary["epochs"]] == [1, 2]
    best = max(e["headline_value"] for e in summary["epochs"])
    assert result.dev_metrics["headline_value"] >= best  # never ships worse than the best epoch
    assert not (out / "epochs").exists() and (out / "adapter" / "adapter_model.safetensors").exists()
    assert "Checkpoint chosen on dev" in (out / "README.md").read_text()


def test_the_best_epoch_replaces_a_worse_final_adapter(tmp_path: Path) -> None:
    from kgbuild.workflows.epoch_selection import EpochSelector

    for epoch, value in [(1, 0.4), (2, 0.7), (3, 0.7)]:
        folder = tmp_path / "epochs" / f"epoch-{epoch:03d}"
        (folder / "adapter").mkdir(parents=True)
        (folder / "adapter" / "weights").write_text(f"epoch {epoch}")
        (folder / "dev_metrics.json").write_text(json.dumps({"headline_value": value, "headline": str(value)}))
    (tmp_path / "adapter").mkdir()
    (tmp_path / "adapter" / "weights").write_text("final")
    selector = EpochSelector(None, "semeval", [], tmp_path / "epochs")  # type: ignore[arg-type]
    shipped, epoch = selector.ship_best(tmp_path, {"headline_value": 0.5})
    assert epoch == 2 and shipped["headline_value"] == 0.7  # the earlier of two equal epochs
    assert (tmp_path / "adapter" / "weights").read_text() == "epoch 2"
    assert json.loads((tmp_path / "epochs.json").read_text())["shipped_epoch"] == 2


def test_training_config_errors(tmp_path: Path) -> None:
    from kgbuild.errors import DatasetError, TrainingError

    path = tmp_path / "p.yaml"
    path.write_text("version: 1\n", encoding="utf-8")
    with pytest.raises(TrainingError, match="no 'training' section"):
        run_training(load_pipeline(path))
    path.write_text(yaml.safe_dump({"version": 1, "schema": "bundled:default", "training": {
        "dataset": "semeval", "data": str(SEMEVAL), "output": str(tmp_path / "o")}}), encoding="utf-8")
    with pytest.raises(DatasetError, match="uses schema 'semeval'"):
        run_training(load_pipeline(path))


def test_training_time_and_tokens_add_up_over_resumed_runs(tmp_path: Path) -> None:
    from kgbuild.relations.lora_trainer import training_totals

    log = tmp_path / "log.jsonl"
    assert training_totals(log).seconds == 0.0 and training_totals(log).tokens_per_second == 0.0
    # the clock and the token count restart when step 3 resumes from a checkpoint
    runs = [(1, 2.0, 100), (2, 4.5, 200), (3, 1.5, 90), (4, 3.0, 180)]
    log.write_text("".join(json.dumps({"step": s, "loss": 1.0, "seconds": t, "tokens": n}) + "\n" for s, t, n in runs))
    totals = training_totals(log)
    assert totals.steps == 4 and totals.seconds == pytest.approx(4.5 + 3.0) and totals.tokens == 200 + 180
    assert totals.tokens_per_second == pytest.approx(380 / 7.5)


def test_causal_training_loss_equals_plain_full_sequence_loss(tiny_llama_dir: Path) -> None:
    """Cached prefix, left padding and label-only logits change nothing: same loss as one plain forward each."""
    import torch

    from kgbuild.relations.lora_trainer import LoRATrainer, TrainExample
    from kgbuild.relations.prompt import PairPrompt

    static = "Static prefix: relation types a, bb, ccc.\n"
    trainer = LoRATrainer(str(tiny_llama_dir), "auto", ["a", "bb", "ccc"], static, lora_r=4, lora_alpha=8,
                          lora_dropout=0.0, target_modules=None, learning_rate=1e-3, max_prompt_tokens=40, seed=3)
    batch = [TrainExample(PairPrompt("Query: short one\n", "Relation:"), 0),
             TrainExample(PairPrompt("Query: a much longer sentence that " + "goes on " * 30 + "\n", "Relation:"), 2),
             TrainExample(PairPrompt("Query: middle length sentence here\n", "Head: x\nRelation:"), 1)]
    with torch.no_grad():
        fast = float(trainer.loss(batch))
        total, count = 0.0, 0
        for example in batch:
            dynamic = trainer.encode(example)
            label = trainer.label_ids[example.label_index]
            ids = torch.tensor([trainer.static_ids + dynamic + label])
            logp = torch.log_softmax(trainer.model(input_ids=ids).logits[0].float(), dim=-1)
            start = len(trainer.static_ids) + len(dynamic)
            total -= sum(float(logp[start - 1 + i, token]) for i, token in enumerate(label))
            count += len(label)
    assert fast == pytest.approx(total / count, rel=1e-4)


@pytest.mark.model
@pytest.mark.parametrize("name", ["semeval-rag-lora", "conll04-rag-lora"])
def test_shipped_pipelines_evaluate_without_training(name: str) -> None:
    """A fresh clone evaluates the committed adapters as they are: pipeline file, artefact and its card agree."""
    from kgbuild.datasets.splits import load_training_data
    from kgbuild.workflows.evaluate import evaluate_modes

    repo = Path(__file__).resolve().parents[1]
    config = load_pipeline(repo / "pipelines" / f"{name}.yaml")
    artefact = load_pipeline(repo / "kgbuild" / "resources" / "models" / name / "pipeline.yaml")
    assert artefact.training is not None and config.training is not None
    assert (artefact.training.max_steps, artefact.retriever.k) == (config.training.max_steps, config.retriever.k)
    dev = load_training_data(config).dev[:3]
    report = evaluate_modes(config, config.training.dataset, dev, ["rag-fine-tuned"])
    labels = set(config.load_schema().all_labels)
    assert [p["predicted"] in labels for p in report.results[0].predictions] == [True] * 3
    card = json.loads((repo / "kgbuild" / "resources" / "models" / name / "dev_metrics.json").read_text())
    assert card["examples"] == config.training.dev_limit and card["headline"] in (
        repo / "kgbuild" / "resources" / "models" / name / "README.md").read_text()
