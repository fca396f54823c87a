"""``kgbuild eval --dataset docs``: the whole ingest path (reading, spaCy, pairing, labelling) on documents
with hand-written gold triples, so entity errors count as well as labelling errors.

Benchmark pairs come with gold entities; real documents do not. This is the check that a graph
built from a folder says what the folder says.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from kgbuild.config import PipelineConfig
from kgbuild.datasets.docs_gold import GoldDocument, GoldSet, load_gold
from kgbuild.entities.pairing import candidate_pairs
from kgbuild.entities.spacy_ner import SentenceAnnotator, annotator_for
from kgbuild.errors import DatasetError
from kgbuild.evaluation.triples import DocumentOutput, score_documents
from kgbuild.read.reader import read_document
from kgbuild.relations.extractor import RelationExtractor
from kgbuild.types import CandidatePair, Document, Sentence

DOCS_DATASET = "docs"


@dataclass
class DocsReport:
    metrics: dict[str, Any]
    TEMPLATE: ClassVar[str] = ("docs triple F1: {f1:.3f} (P {precision:.3f}, R {recall:.3f}; {gold} gold triples in "
                               "{documents} documents; {entity_error_share:.0%} of errors from entities)")

    @property
    def headline(self) -> str:
        return self.TEMPLATE.format(**self.metrics)


def evaluate_documents(config: PipelineConfig, data: Path, out: Path | None = None,
                       extractor: RelationExtractor | None = None, nlp: Any | None = None) -> DocsReport:
    schema = config.load_schema()
    documents = read_gold_documents(config, load_gold(data, schema))  # checked before a model loads
    extractor = extractor or RelationExtractor.from_config(config.without_corrections())
    outputs, seconds = label_gold_documents(config, documents, extractor, nlp)
    labelled = [item for output in outputs for item in output.labelled]
    metrics = score_documents(outputs, schema)
    metrics["model"] = extractor.model_id
    metrics["candidate_pairs"] = len(labelled)  # the cost of pairing choices (type vote, type map)
    metrics["pairs_per_document"] = len(labelled) / len(documents) if documents else 0.0
    metrics["seconds_per_document"] = seconds / len(documents) if documents else 0.0
    report = DocsReport(metrics)
    if out is not None:
        write_docs_report(out, report)
    return report


def label_gold_documents(config: PipelineConfig, documents: list[tuple[GoldDocument, Document]],
                         extractor: RelationExtractor, nlp: Any | None = None) -> tuple[list[DocumentOutput], float]:
    """Each gold document's sentences, candidate pairs and labelled pairs, and the seconds spaCy and the model
    took: what the scores (and ``bench.sentence_window``'s sweeps) are computed from."""
    schema = config.load_schema()
    annotator = gold_annotator(config, nlp)
    candidates: list[list[CandidatePair]] = []
    annotated: list[list[Sentence]] = []
    started = time.perf_counter()
    for _, sentences in annotator.annotate(document for _, document in documents):
        annotated.append(list(sentences))
        candidates.append(list(candidate_pairs(annotated[-1], schema, annotator.pair_window)))
    labelled = extractor.label([pair for pairs in candidates for pair in pairs])
    seconds = time.perf_counter() - started
    outputs, start = [], 0
    for (entry, _), pairs, sentences in zip(documents, candidates, annotated, strict=True):
        outputs.append(DocumentOutput(entry, pairs, labelled[start:start + len(pairs)], sentences))
        start += len(pairs)
    return outputs, seconds


def read_gold_documents(config: PipelineConfig, gold: GoldSet) -> list[tuple[GoldDocument, Document]]:
    """Every gold document read as ingest reads it; one that cannot be read stops the evaluation."""
    documents = []
    for entry in gold.documents:
        result = read_document(gold.document_path(entry), config.reader.max_bytes)
        if result.document is None:
            reason = result.problem.reason if result.problem else "nothing read"
            raise DatasetError(f"cannot read gold document {entry.path}: {reason}")
        documents.append((entry, result.document))
    return documents


def gold_annotator(config: PipelineConfig, nlp: Any | None = None) -> SentenceAnnotator:
    return annotator_for(config.entities, nlp)


def write_docs_report(out: Path, report: DocsReport) -> None:
    out.mkdir(parents=True, exist_ok=True)
    m = report.metrics
    (out / "report.json").write_text(json.dumps(m, indent=2, sort_keys=True, ensure_ascii=False), encoding="utf-8")
    lines = ["# End-to-end evaluation on documents", "", report.headline, "",
             "| relation | P | R | F1 | support |", "|---|---|---|---|---|"]
    lines += [f"| {label} | {v['precision']:.3f} | {v['recall']:.3f} | {v['f1']:.3f} | {v['support']} |"
              for label, v in m["per_relation"].items()]
    for title, rows in (("Missed (false negatives)", m["missed"]), ("Spurious (false positives)", m["spurious"])):
        lines += ["", f"## {title}", "", "| document | head | relation | tail | blamed on |", "|---|---|---|---|---|"]
        lines += [f"| {e['document']} | {e['head']} | {e['relation']} | {e['tail']} | "
                  f"{e['stage']}{': ' + e['lost_at'] if 'lost_at' in e else ''} |" for e in rows]
    lines += ["", "## Missed gold triples by the first stage that lost them", "", "| stage | missed |", "|---|---|"]
    lines += [f"| {stage} | {count} |" for stage, count in m["missed_by_stage"].items()]
    (out / "report.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
