"""End-to-end triple scoring against a gold file, with each error traced to its stage.

A triple is (document, head, relation, tail) with entity names mapped to their gold canonical
name through the gold aliases, case-insensitively and without a leading article. An error is
blamed on **entities** when spaCy's output made the right answer impossible or the wrong one
possible (an entity missed or mistyped, so the pair was never a candidate for the gold label, or a
predicted triple joins a name that is no gold entity of that type), and on **labelling** otherwise.
A missed triple also names the first stage that lost it (:mod:`kgbuild.evaluation.miss_stages`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from kgbuild.datasets.docs_gold import GoldDocument
from kgbuild.evaluation.metrics import expected_calibration_error
from kgbuild.evaluation.miss_stages import ENTITY_STAGES, MISS_STAGES, miss_stage
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair, LabelledPair, Sentence

Key = tuple[str, str, str, str]  # document path, head, relation, tail (canonical names)


@dataclass
class DocumentOutput:
    """What the pipeline produced for one gold document: every candidate pair and every labelled one."""

    gold: GoldDocument
    candidates: list[CandidatePair]
    labelled: list[LabelledPair]
    sentences: list[Sentence]


@dataclass
class TripleErrors:
    missed: list[dict[str, str]] = field(default_factory=list)  # false negatives
    spurious: list[dict[str, str]] = field(default_factory=list)  # false positives


def _prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def score_documents(outputs: Sequence[DocumentOutput], schema: RelationSchema) -> dict[str, Any]:
    """Micro precision, recall and F1 over triples, per relation, and the errors by stage."""
    gold_keys: set[Key] = set()
    predicted: set[Key] = set()
    confidence: dict[Key, float] = {}
    errors = TripleErrors()
    for output in outputs:
        doc = output.gold
        gold = {(doc.path, doc.canonical(h), r, doc.canonical(t)) for h, r, t in doc.triples}
        found: dict[Key, tuple[str, str]] = {}
        for item in output.labelled:
            if item.label != schema.no_relation:
                key = (doc.path, doc.canonical(item.pair.head.name), item.label, doc.canonical(item.pair.tail.name))
                found.setdefault(key, (item.pair.head.type, item.pair.tail.type))
                confidence[key] = max(confidence.get(key, 0.0), item.confidence)  # the edge's confidence
        for key in sorted(gold - found.keys()):
            _, head, relation, tail = key
            lost_at = miss_stage(doc, head, relation, tail, output.sentences, output.labelled, schema)
            errors.missed.append({**_error(key, "entities" if lost_at in ENTITY_STAGES else "labelling"),
                                  "lost_at": lost_at})
        for key in sorted(found.keys() - gold):
            _, head, relation, tail = key
            right_types = (doc.gold_type(head), doc.gold_type(tail)) == found[key]
            errors.spurious.append(_error(key, "labelling" if right_types else "entities", found[key]))
        gold_keys |= gold
        predicted |= found.keys()
    tp = len(gold_keys & predicted)
    per_relation = {}
    for relation in schema.labels:
        g = {k for k in gold_keys if k[2] == relation}
        p = {k for k in predicted if k[2] == relation}
        per_relation[relation] = {**_prf(len(g & p), len(p - g), len(g - p)), "support": len(g)}
    blamed = [e["stage"] for e in (*errors.missed, *errors.spurious)]
    return {
        **_prf(tp, len(predicted) - tp, len(gold_keys) - tp),
        "gold": len(gold_keys), "predicted": len(predicted), "true_positives": tp,
        "documents": len(outputs), "per_relation": per_relation,
        "errors_by_stage": {stage: blamed.count(stage) for stage in ("entities", "labelling")},
        "missed_by_stage": {stage: sum(e["lost_at"] == stage for e in errors.missed) for stage in MISS_STAGES},
        "entity_error_share": blamed.count("entities") / len(blamed) if blamed else 0.0,
        **_by_confidence(confidence, gold_keys),
        "missed": errors.missed, "spurious": errors.spurious,
    }


CONFIDENT = 0.8


def _by_confidence(confidence: dict[Key, float], gold: set[Key]) -> dict[str, Any]:
    """How far an edge's confidence can be trusted: precision of the edges at or above :data:`CONFIDENT`
    and below it, and the ECE of the edges (confidence against being a gold triple)."""
    keys = sorted(confidence)
    high = [k for k in keys if confidence[k] >= CONFIDENT]
    low = [k for k in keys if confidence[k] < CONFIDENT]
    return {
        "confident_edges": len(high), "confident_precision": sum(k in gold for k in high) / len(high) if high else 0.0,
        "other_edges": len(low), "other_precision": sum(k in gold for k in low) / len(low) if low else 0.0,
        "edge_ece": expected_calibration_error([confidence[k] for k in keys], [k in gold for k in keys]),
    }


def _error(key: Key, stage: str, spacy_types: tuple[str, str] | None = None) -> dict[str, str]:
    document, head, relation, tail = key
    error = {"document": document, "head": head, "relation": relation, "tail": tail, "stage": stage}
    if spacy_types:
        error["spacy_types"] = "/".join(spacy_types)
    return error
