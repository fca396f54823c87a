"""The cheap baseline to beat: a MiniLM-L6 entity-marker classifier, on a pipeline's own splits.

    python -m kgbuild.bench.marker_baseline --pipeline pipelines/semeval-rag-lora.yaml
    python -m kgbuild.bench.marker_baseline --pipeline pipelines/conll04-rag-lora.yaml

Full fine-tuning of all-MiniLM-L6-v2 with entity markers and a linear head over the two
start-marker states (batch 32, lr 5e-5, max length 80, 2 epochs), trained on the pipeline's
training split and scored with the dataset's standard metric (SemEval: official macro-F1; CoNLL04:
micro-F1 without no_relation) on the very dev examples ``kgbuild eval --pipeline-dev`` scores for
the RAG generator, so the comparison is like for like.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import torch

from kgbuild.assets import minilm_dir
from kgbuild.config import load_pipeline
from kgbuild.datasets.splits import load_training_data
from kgbuild.evaluation.metrics import standard_metrics
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair

MARKERS = ["[E1]", "[/E1]", "[E2]", "[/E2]"]


def marked(example: CandidatePair) -> str:
    spans = sorted([(example.head.start, "[E1] "), (example.head.end, " [/E1]"),
                    (example.tail.start, "[E2] "), (example.tail.end, " [/E2]")], key=lambda x: x[0], reverse=True)
    text = example.text
    for position, marker in spans:
        text = text[:position] + marker + text[position:]
    return text


class MarkerClassifier(torch.nn.Module):
    def __init__(self, encoder: torch.nn.Module, hidden: int, labels: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = torch.nn.Linear(2 * hidden, labels)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, e1: torch.Tensor,
                e2: torch.Tensor) -> torch.Tensor:
        states = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        rows = torch.arange(states.shape[0])
        return self.head(torch.cat([states[rows, e1], states[rows, e2]], dim=-1))


def main(argv: list[str] | None = None) -> dict[str, float]:
    from transformers import AutoModel, AutoTokenizer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", type=Path, default=Path("pipelines/semeval-rag-lora.yaml"),
                        help="a pipeline whose training section fixes the dataset, schema, train and dev split")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    torch.manual_seed(args.seed)
    config = load_pipeline(args.pipeline)
    training = config.training
    if training is None:
        raise SystemExit(f"{args.pipeline}: no training section")
    schema: RelationSchema = config.load_schema()
    labels = schema.all_labels
    split = load_training_data(config)
    train, dev = split.train, split.dev
    tokenizer = AutoTokenizer.from_pretrained(str(minilm_dir()))
    tokenizer.add_special_tokens({"additional_special_tokens": MARKERS})
    encoder = AutoModel.from_pretrained(str(minilm_dir()))
    encoder.resize_token_embeddings(len(tokenizer))
    model = MarkerClassifier(encoder, encoder.config.hidden_size, len(labels))
    e1_id, e2_id = tokenizer.convert_tokens_to_ids(["[E1]", "[E2]"])  # type: ignore[misc]

    def batch(examples: list[CandidatePair]) -> dict[str, torch.Tensor]:
        enc = tokenizer([marked(e) for e in examples], padding=True, truncation=True, max_length=80,
                        return_tensors="pt")
        ids = enc.input_ids
        first = lambda token: (ids == token).float().argmax(dim=1)  # noqa: E731 - 0 if truncated away
        return {"input_ids": ids, "attention_mask": enc.attention_mask, "e1": first(e1_id), "e2": first(e2_id)}

    optimiser = torch.optim.AdamW(model.parameters(), lr=5e-5)
    index = {label: i for i, label in enumerate(labels)}
    started = time.perf_counter()
    model.train()
    rng = random.Random(args.seed)
    for _ in range(args.epochs):
        order = list(range(len(train)))
        rng.shuffle(order)
        for start in range(0, len(order), 32):
            chunk = [train[i] for i in order[start:start + 32]]
            logits = model(**batch(chunk))
            loss = torch.nn.functional.cross_entropy(logits, torch.tensor([index[str(e.label)] for e in chunk]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
    train_seconds = time.perf_counter() - started
    model.eval()
    predicted: list[str] = []
    started = time.perf_counter()
    with torch.no_grad():
        for start in range(0, len(dev), 64):
            logits = model(**batch(dev[start:start + 64]))
            predicted += [labels[i] for i in logits.argmax(dim=-1).tolist()]
    metrics = standard_metrics(training.dataset, [str(e.label) for e in dev], predicted, schema)
    standard = metrics.get("semeval_official") or metrics.get("micro") or {}
    result = {"dataset": training.dataset, "train_examples": len(train), "dev_examples": len(dev),
              "train_minutes": round(train_seconds / 60, 2),
              "dev_pairs_per_s": round(len(dev) / (time.perf_counter() - started), 1),
              "standard_f1": round(metrics["headline_value"], 4),
              "precision": round(standard.get("macro_precision", standard.get("precision", 0.0)), 4),
              "recall": round(standard.get("macro_recall", standard.get("recall", 0.0)), 4),
              "accuracy": round(metrics["accuracy"], 4)}
    print(json.dumps(result, indent=2))
    print(metrics["headline"])
    return result


if __name__ == "__main__":
    main()
