"""Labelling throughput (pairs/s) on fixed pair sets, against three references measured in the same run.

    python -m kgbuild.bench.labelling                       # docs, semeval, conll04; median of 3 runs
    python -m kgbuild.bench.labelling --sets docs --limit 60 --repeats 5

For each pair set, with the pipeline's own extractor:

* **kgbuild**: ``RelationExtractor.label``: a sentence's prompt is encoded once and shared by its pairs;
* **per-pair layout**: every pair scored with its own copy of the retrieved examples and sentence
  (the layout before sentence sharing; same text, same label tree);
* **forward-pass limit**: the very forward passes kgbuild makes, replayed as plain causal passes with
  no tree mask, no vocabulary projection and no scoring; ``limit fraction`` = its time / kgbuild's;
* **generate()**: the seed paper's decoding on the first ``--generate`` pairs: greedy free text from
  the whole prompt (no cache reuse), mapped back to a label.

Pair sets: ``docs`` (``examples/docs`` through spaCy and the default schema), ``semeval`` (the SemEval
pipeline's seeded dev split: one pair per sentence) and ``conll04`` (whole sentences of CoNLL04 dev with
all their candidate pairs).
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from kgbuild.bench.common import report, timed_median
from kgbuild.config import PipelineConfig, load_pipeline
from kgbuild.datasets.registry import load_dataset
from kgbuild.datasets.splits import load_training_data
from kgbuild.relations.device import number_format, to_device
from kgbuild.relations.encoding import prefix_cache
from kgbuild.relations.extractor import RelationExtractor
from kgbuild.relations.scorer import LabelScorer
from kgbuild.types import CandidatePair

REPO = Path(__file__).resolve().parents[2]
PIPELINES = {"docs": "default", "semeval": "semeval-rag-lora", "conll04": "conll04-rag-lora"}


def docs_pairs(config: PipelineConfig, folder: Path = REPO / "examples" / "docs") -> list[CandidatePair]:
    from kgbuild.entities.pairing import candidate_pairs
    from kgbuild.entities.spacy_ner import annotator_for
    from kgbuild.read import discover, read_document

    entities, schema = config.entities, config.load_schema()
    documents = [read_document(p, config.reader.max_bytes).document
                 for p in discover(folder, config.reader.extensions, True).files]
    annotator = annotator_for(entities)
    return [pair for _, sentences in annotator.annotate(d for d in documents if d is not None)
            for pair in candidate_pairs(sentences, schema, annotator.pair_window)]


def whole_sentences(pairs: Sequence[CandidatePair], limit: int) -> list[CandidatePair]:
    """Whole sentences, in order, until at least ``limit`` pairs: a sentence keeps all its pairs."""
    by_sentence: dict[str, list[CandidatePair]] = {}
    for pair in pairs:
        by_sentence.setdefault(pair.text, []).append(pair)
    chosen: list[CandidatePair] = []
    for group in by_sentence.values():
        if len(chosen) >= limit:
            break
        chosen += group
    return chosen


def pair_set(name: str, config: PipelineConfig, limit: int) -> list[CandidatePair]:
    if name == "docs":
        return docs_pairs(config)[:limit]
    if name == "semeval":
        return load_training_data(config).dev[:limit]
    training = config.training
    assert training is not None
    dev = load_dataset(training.dataset, config.resolve_data(training.data), training.dev_split or "dev")
    return whole_sentences(dev, limit)


def per_pair_layout(extractor: RelationExtractor, pairs: Sequence[CandidatePair]) -> list[str]:
    """The pre-sharing layout: each pair pays for its own copy of its sentence's prompt."""
    labels, scorer = extractor.schema.all_labels, extractor.scorer
    return [labels[scorer.score_sentence(p.sentence, [p.pair]).best[0]] for p in extractor.prompter.prompts(pairs)]


def forward_limit(extractor: RelationExtractor, pairs: Sequence[CandidatePair]) -> float:
    """Seconds of kgbuild's own forward passes replayed as plain causal passes (measured pass by pass)."""
    scorer: LabelScorer = extractor.scorer
    model, spent = scorer.loaded.model, [0.0]

    def replay(inputs: dict[str, Any]) -> None:
        kv = [(layer.keys, layer.values) for layer in inputs["past_key_values"].layers]
        plain = {"input_ids": inputs["input_ids"], "position_ids": inputs["position_ids"],
                 "past_key_values": prefix_cache(model, kv, 1), "logits_to_keep": 1, "use_cache": True}
        started = time.perf_counter()
        with torch.no_grad():
            model(**plain)
        spent[0] += time.perf_counter() - started

    scorer.forward_hooks.append(replay)
    try:
        extractor.label(pairs)
    finally:
        scorer.forward_hooks.remove(replay)
    return spent[0]


def generate_labels(extractor: RelationExtractor, pairs: Sequence[CandidatePair]) -> list[str]:
    """The seed paper's decoding: greedy free text after the whole prompt, mapped back to a label."""
    loaded, labels = extractor.scorer.loaded, extractor.schema.all_labels
    tokenizer, out = loaded.tokenizer, []
    longest = max(len(tokenizer(" " + label, add_special_tokens=False).input_ids) for label in labels) + 1
    for prompt in extractor.prompter.prompts(pairs):
        ids = to_device(tokenizer(extractor.prompter.static + prompt.text, return_tensors="pt").input_ids,
                        extractor.scorer.device)
        with torch.no_grad():
            generated = loaded.model.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=longest,
                                              do_sample=False, pad_token_id=tokenizer.pad_token_id)
        out.append(text_to_label(tokenizer.decode(generated[0, ids.shape[1]:], skip_special_tokens=True), labels,
                                 extractor.schema.no_relation))
    return out


def text_to_label(text: str, labels: Sequence[str], no_relation: str) -> str:
    """First line, exact label if it is one, else the longest label it starts with, else no relation."""
    answer = text.strip().splitlines()[0].strip() if text.strip() else ""
    if answer in labels:
        return answer
    starts = [label for label in labels if answer.startswith(label)]
    return max(starts, key=len) if starts else no_relation


def other_scoring(extractor: RelationExtractor, score: str) -> RelationExtractor:
    """The same loaded model and prompts, scored the other way (``sum`` or ``stepwise``)."""
    scorer = extractor.scorer
    other = LabelScorer(scorer.loaded, scorer.labels, scorer.static_prefix, scorer.max_prompt_tokens, score,
                        scorer.pairs_per_pass, scorer.temperature)
    return dataclasses.replace(extractor, scorer=other)


def measure(name: str, limit: int, repeats: int, generate: int, device: str | None,
            compare_score: str | None, dtype: str | None = None, example_text: str | None = None) -> dict[str, Any]:
    config = load_pipeline(REPO / "pipelines" / f"{PIPELINES[name]}.yaml").with_overrides(device=device)
    if dtype is not None:
        config = config.model_copy(update={"generator": config.generator.model_copy(update={"dtype": dtype})})
    if example_text is not None:
        retriever = config.retriever.model_copy(update={"example_text": example_text})
        config = config.model_copy(update={"retriever": retriever})
    pairs = pair_set(name, config, limit)
    extractor = RelationExtractor.from_config(config.without_corrections())
    compared: dict[str, Any] = {}
    if compare_score:
        other = other_scoring(extractor, compare_score)
        other_seconds, other_runs, _ = timed_median(lambda: other.label(pairs), repeats)
        compared = {"compared_score": compare_score, "compared_pairs_per_s": len(pairs) / other_seconds,
                    "compared_runs_s": other_runs,
                    "compared_tokens_per_pair": other.scorer.tokens_fed / len(pairs) / len(other_runs)}
    scorer = extractor.scorer
    scorer.forward_passes = scorer.tokens_fed = 0
    seconds, runs, _ = timed_median(lambda: extractor.label(pairs), repeats)
    tokens_per_pair = scorer.tokens_fed / len(pairs) / len(runs)
    scorer.tokens_fed = 0
    old_seconds, old_runs, _ = timed_median(lambda: per_pair_layout(extractor, pairs), repeats)
    old_tokens_per_pair = scorer.tokens_fed / len(pairs) / len(old_runs)
    limit_seconds = forward_limit(extractor, pairs)
    rate = len(pairs) / seconds
    subset = pairs[:generate]
    generated: dict[str, Any] = {"generate_pairs": 0, "generate_pairs_per_s": None, "speedup_vs_generate": None}
    if subset:  # --generate 0 leaves the (slow) generate() reference out
        generate_seconds, _, _ = timed_median(lambda: generate_labels(extractor, subset), 1)
        generated = {"generate_pairs": len(subset), "generate_pairs_per_s": len(subset) / generate_seconds,
                     "speedup_vs_generate": rate / (len(subset) / generate_seconds)}
    return {
        "set": name, "pipeline": PIPELINES[name], "pairs": len(pairs),
        "sentences": len({(p.doc_id, p.sentence_index, p.text) for p in pairs}),
        "pairs_per_s": rate, "runs_s": runs, "tokens_per_pair": tokens_per_pair,
        "per_pair_layout_pairs_per_s": len(pairs) / old_seconds, "per_pair_layout_runs_s": old_runs,
        "per_pair_layout_tokens_per_pair": old_tokens_per_pair,
        "speedup_vs_per_pair_layout": old_seconds / seconds,
        "forward_limit_s": limit_seconds, "limit_fraction": limit_seconds / seconds,
        **generated,
        "dtype": config.generator.dtype, "number_format": number_format(config.generator.dtype, str(scorer.device)),
        "pairs_per_pass": config.generator.batch_size,
        "score": config.generator.score, "device": str(scorer.device), **compared,
    }


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default="docs,semeval,conll04")
    parser.add_argument("--limit", type=int, default=150, help="pairs per set (whole sentences for conll04)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--generate", type=int, default=20, help="pairs decoded with generate()")
    parser.add_argument("--device", default=None, help="auto, cpu, cuda or cuda:N (default: the pipeline's)")
    parser.add_argument("--dtype", default=None, help="auto, float32, bfloat16... (default: the pipeline's)")
    parser.add_argument("--example-text", choices=["sentence", "clause"], default=None,
                        help="retriever.example_text (default: the pipeline's)")
    parser.add_argument("--compare-score", choices=["sum", "stepwise"], default=None,
                        help="also time the other label scoring, with the same model in the same run")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    results = [measure(name, args.limit, args.repeats, args.generate, args.device, args.compare_score, args.dtype,
                       args.example_text)
               for name in args.sets.split(",")]
    rows = [[r["set"], r["number_format"], r["score"], r["pairs"], r["sentences"], r["pairs_per_s"],
             r["tokens_per_pair"],
             r["per_pair_layout_pairs_per_s"], r["per_pair_layout_tokens_per_pair"], r["speedup_vs_per_pair_layout"],
             r["limit_fraction"], r["generate_pairs_per_s"], r["speedup_vs_generate"],
             *([r["compared_score"], r["compared_pairs_per_s"], r["compared_tokens_per_pair"]]
               if args.compare_score else [])] for r in results]
    compare_columns = ["other scoring", "its pairs/s", "its tokens/pair"] if args.compare_score else []
    return report("labelling", ["set", "format", "scoring", "pairs", "sentences", "pairs/s", "tokens/pair",
                                "per-pair layout pairs/s", "its tokens/pair", "speedup", "limit fraction",
                                "generate() pairs/s", "vs generate()", *compare_columns], rows,
                  {"sets": results, "repeats": args.repeats}, args.out)


if __name__ == "__main__":
    main()
