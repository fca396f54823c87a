"""``kgbuild eval --dataset aliases``: entity resolution against the gold file's coreferent names.

The documents go through the ingest path up to resolution (reading, spaCy, within-document links,
cross-document merges) with no language model and no store; every name spaCy finds is scored, so a
merge involving a name the gold file does not know counts as wrong.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kgbuild.config import PipelineConfig
from kgbuild.datasets.docs_gold import entity_name_key, load_gold
from kgbuild.evaluation.merges import Unit, score_merges
from kgbuild.graph.aliases import AliasTable
from kgbuild.relations.retrieval import SentenceEncoder
from kgbuild.resolution.across_documents import NamedEntity, similar_entity_merges
from kgbuild.resolution.names import NAME_TYPES
from kgbuild.resolution.within_document import document_aliases
from kgbuild.types import entity_key
from kgbuild.workflows.evaluate_docs import DocsReport, gold_annotator, read_gold_documents

ALIASES_DATASET = "aliases"


class MergeReport(DocsReport):
    TEMPLATE = ("entity merges: precision {precision:.3f}, recall {recall:.3f} ({true_merges} right, "
                "{wrong_merges} wrong, {missed_merges} missed; threshold {threshold}, {units} names in "
                "{documents} documents)")


def evaluate_merges(config: PipelineConfig, data: Path, nlp: Any | None = None,
                    encoder: SentenceEncoder | None = None) -> MergeReport:
    documents = read_gold_documents(config, load_gold(data, config.load_schema()))
    annotator = gold_annotator(config, nlp)
    table = AliasTable()
    spellings: dict[tuple[str, str], tuple[Unit, str, str]] = {}  # (doc id, key) → unit, type, gold entity
    for (entry, document), (_, sentences) in zip(documents, annotator.annotate(d for _, d in documents),
                                                 strict=True):
        if config.resolution.within_document:
            table.add(document_aliases(document.id, sentences))
        for mention in (m for s in sentences for m in s.mentions if m.type in NAME_TYPES and not m.link):
            unit = Unit(entry.path, mention.text, entity_name_key(mention.text))
            spellings.setdefault((document.id, entity_key(mention.text, mention.type)),
                                 (unit, mention.type, entry.canonical(mention.text)))
    if config.resolution.across_documents:
        canonical: dict[str, NamedEntity] = {}
        for (doc_id, key), (unit, type_, _) in spellings.items():
            final, name = table.resolve_key(key, doc_id)
            canonical.setdefault(final, NamedEntity(final, name or unit.spelling, type_))
        encoder = encoder or SentenceEncoder(config.resolution.encoder or config.retriever.encoder)
        table.add(similar_entity_merges(list(canonical.values()), encoder.encode, config.resolution.threshold))
    predicted = {unit: table.resolve_key(key, doc_id)[0] for (doc_id, key), (unit, _, _) in spellings.items()}
    truth = {unit: entity for unit, _, entity in spellings.values()}
    metrics = score_merges(predicted, truth)
    metrics.update(threshold=config.resolution.threshold, documents=len(documents))
    return MergeReport(metrics)
