"""Cross-document entity resolution over a store, and the alias listing behind ``kgbuild aliases``."""

from __future__ import annotations

import logging

from kgbuild.config import PipelineConfig
from kgbuild.graph.store import GraphStore
from kgbuild.relations.retrieval import SentenceEncoder
from kgbuild.resolution.across_documents import NamedEntity, similar_entity_merges
from kgbuild.types import Alias
from kgbuild.workflows.graph_ops import opened_store

log = logging.getLogger(__name__)


def merge_similar_entities(store: GraphStore, config: PipelineConfig,
                           encoder: SentenceEncoder | None = None) -> list[Alias]:
    """Merge entities of one type whose names embed close together; returns the merges made."""
    resolution = config.resolution
    entities = [NamedEntity(e.key, e.name, e.type) for e in store.entities()]
    if len(entities) < 2:
        return []
    encoder = encoder or SentenceEncoder(resolution.encoder or config.retriever.encoder,
                                         config.retriever.batch_size)
    done = {(a.spelling_key, a.canonical_key) for a in store.aliases() if a.undone}
    merges = similar_entity_merges(entities, encoder.encode, resolution.threshold,
                                   lambda alias, canonical: (alias, canonical) in done)
    made = store.merge_aliases(merges) if merges else []
    for alias in made:
        log.info("merged %r into %r (%s %.3f)", alias.spelling, alias.canonical, alias.reason, alias.score)
    return made


def list_aliases(config: PipelineConfig, include_undone: bool = False) -> list[Alias]:
    """Every merge in the graph with its reason; undone ones on request."""
    with opened_store(config, read_only=True) as store:
        return [a for a in store.aliases() if include_undone or not a.undone]


def undo_alias(config: PipelineConfig, spelling_key: str, canonical_key: str | None = None) -> list[Alias]:
    """Split a spelling back out of the entity it was merged into, for good (later runs respect it)."""
    with opened_store(config, read_only=False) as store:
        return store.undo_alias(spelling_key, canonical_key)


def resolve_store(config: PipelineConfig) -> list[Alias]:
    """Run the cross-document pass on the stored graph now (``kgbuild aliases --resolve``)."""
    with opened_store(config, read_only=False) as store:
        return merge_similar_entities(store, config)
