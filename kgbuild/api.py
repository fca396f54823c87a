"""kgbuild as a library: the same workflows as the command line, for notebooks and other programs.

    import kgbuild
    kg = kgbuild.load()                                  # pipelines/default.yaml, or load("my.yaml")
    for triple in kg.extract("Ada Lovelace works for Acme Corp in London."):
        print(triple.head.name, triple.label, triple.tail.name, triple.evidence.confidence)
    kg.ingest("docs/", store="graph.lbug")               # or store="bolt://localhost:7687"
    with kgbuild.open_store("graph.lbug") as graph:      # read-only unless write=True
        print(graph.query("MATCH (p:PERSON) RETURN p.name AS name LIMIT $n", {"n": 5}).rows)

Models load on first use and stay loaded for the object's lifetime, so ``extract`` in a loop pays for
them once.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from kgbuild.config import PipelineConfig, StoreConfig, load_pipeline
from kgbuild.errors import ConfigError
from kgbuild.graph.store import GraphStats, GraphStore, QueryResult, ReadOnlyQueryError
from kgbuild.types import Triple

if TYPE_CHECKING:  # importing the workflows loads torch and spaCy: `import kgbuild` stays light without them
    from kgbuild.relations.extractor import RelationExtractor
    from kgbuild.workflows.ingest import IngestHooks, IngestSummary

BOLT_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")


class Pipeline:
    """A loaded pipeline: its configuration, and its spaCy and relation models once first needed."""

    def __init__(self, config: PipelineConfig) -> None:
        self.config = config
        self._nlp: Any | None = None
        self._extractor: RelationExtractor | None = None

    def __repr__(self) -> str:
        return f"kgbuild.Pipeline({self.config.name!r}, source={self.config.source!r})"

    def extract(self, text: str, *, name: str = "<text>") -> list[Triple]:
        """The relations ``text`` states, as triples with their provenance (sentence, offsets, confidence,
        model). Ends are resolved within the text as ingest resolves them ("She" and a bare surname become
        the full name); ``name`` is the document path the evidence records."""
        from kgbuild.graph.aliases import AliasTable
        from kgbuild.read import document_from_text
        from kgbuild.types import REFERENCE_REASONS
        from kgbuild.workflows.document_stages import annotate_documents

        if not isinstance(text, str):
            raise TypeError(f"extract() takes a str, not {type(text).__name__}")
        if not text.strip():
            return []
        document = document_from_text(text, name)
        extractor = self.extractor
        (found,) = annotate_documents([document], self._annotator(), extractor.schema)
        if not found.pairs:
            return []
        within = self.config.resolution.within_document
        aliases = AliasTable(a for a in found.aliases if within or a.reason in REFERENCE_REASONS)
        return [aliases.canonical(Triple.from_labelled(item, extractor.model_id))
                for item in extractor.label(found.pairs) if item.label != extractor.schema.no_relation]

    def ingest(self, folder: str | Path, store: str | Path | None = None, *, keep_missing: bool = False,
               hooks: IngestHooks | None = None) -> IngestSummary:
        """Make the graph in ``store`` reflect ``folder``, as ``kgbuild ingest`` does: unchanged files are
        skipped, changed ones replaced, removed ones dropped (unless ``keep_missing``). ``store``: an
        embedded store's path or a Bolt URI (credentials from ``NEO4J_USER``/``NEO4J_PASSWORD``); None:
        the pipeline's own store."""
        from kgbuild.workflows.ingest import ingest_folder

        config = self.config.model_copy(update={"store": store_config(store, self.config.store)})
        return ingest_folder(config, Path(folder), hooks, keep_missing=keep_missing, extractor=self.extractor,
                             nlp=self._load_nlp())

    @property
    def extractor(self) -> RelationExtractor:
        """The :class:`~kgbuild.relations.extractor.RelationExtractor` (retriever, prompt, scorer)."""
        if self._extractor is None:
            from kgbuild.relations.extractor import RelationExtractor

            self._extractor = RelationExtractor.from_config(self.config)
        return self._extractor

    def _load_nlp(self) -> Any:
        if self._nlp is None:
            from kgbuild.entities.spacy_ner import load_spacy

            self._nlp = load_spacy(self.config.entities.spacy_model)
        return self._nlp

    def _annotator(self) -> Any:
        from kgbuild.entities.spacy_ner import annotator_for

        return annotator_for(self.config.entities, self._load_nlp())


def load(pipeline: str | Path | None = None, *, device: str | None = None) -> Pipeline:
    """A pipeline by YAML path (None: the default pipeline); ``device`` overrides ``generator.device``.
    Nothing heavy loads until the first ``extract`` or ``ingest``."""
    return Pipeline(load_pipeline(pipeline).with_overrides(device=device))


class Store:
    """A graph store opened for Cypher. Each ``query`` is read-only unless it passes ``write=True``, which
    needs the store opened with ``write=True``; the database itself enforces it (see ``kgbuild query``)."""

    def __init__(self, store: GraphStore, writable: bool) -> None:
        self._store = store
        self.writable = writable

    def query(self, cypher: str, params: dict[str, Any] | None = None, *, write: bool = False,
              timeout: float | None = 30.0) -> QueryResult:
        """Run Cypher with its values in ``params`` (never formatted into the text)."""
        if write and not self.writable:
            raise ReadOnlyQueryError("this store was opened read-only: open_store(..., write=True) to write")
        return self._store.query(cypher, params or {}, write=write, timeout=timeout)

    def stats(self) -> GraphStats:
        return self._store.stats()

    def triples(self) -> Iterator[Triple]:
        """Every stored triple with its evidence."""
        return self._store.iter_triples()

    def close(self) -> None:
        self._store.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def open_store(target: str | Path | None = None, *, write: bool = False, pipeline: str | Path | None = None,
               user: str | None = None, password: str | None = None, database: str | None = None) -> Store:
    """An embedded store by path, or Neo4j by Bolt URI (``user``/``password``/``database``, else the
    ``NEO4J_*`` variables); None: the pipeline's store. Opened read-only unless ``write``."""
    from kgbuild.graph import open_store as open_graph_store

    config = load_pipeline(pipeline)
    store_cfg = store_config(target, config.store)
    updates = {"user": user, "database": database, "password": SecretStr(password) if password is not None else None}
    store_cfg = store_cfg.model_copy(update={"neo4j": store_cfg.neo4j.model_copy(
        update={k: v for k, v in updates.items() if v is not None})})
    if store_cfg.kind == "embedded" and not write and not Path(store_cfg.path).expanduser().exists():
        raise ConfigError(f"no graph at {store_cfg.path} (ingest a folder first, or pass write=True to create one)")
    store = open_graph_store(store_cfg, read_only=not write)
    try:
        store.ensure_schema(config.load_schema())
    except BaseException:
        store.close()
        raise
    return Store(store, writable=write)


def store_config(target: str | Path | None, base: StoreConfig) -> StoreConfig:
    """``target`` as store settings over ``base``: a Bolt URI selects Neo4j, anything else is a path."""
    if target is None:
        return base.model_copy(update={"neo4j": base.neo4j.resolved()})
    text = str(target)
    if text.startswith(BOLT_SCHEMES):
        return base.model_copy(update={"kind": "neo4j", "neo4j": base.neo4j.resolved().model_copy(
            update={"uri": text})})
    if "://" in text:
        raise ConfigError(f"unknown store address {text!r}: a path, or a URI starting with {', '.join(BOLT_SCHEMES)}")
    return base.model_copy(update={"kind": "embedded", "path": text})


__all__ = ["Pipeline", "Store", "load", "open_store"]
