"""The import directions docs/ARCHITECTURE.md promises, checked by reading every module's imports.

Imports inside functions count too: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "kgbuild"
MODELS = ("torch", "transformers", "peft", "sentence_transformers", "faiss", "spacy")
NEUTRAL = ("kgbuild.types", "kgbuild.schema", "kgbuild.errors", "kgbuild.assets", "kgbuild.config",
           "kgbuild.training_config", "kgbuild.keys")
STAGES = ("kgbuild.read", "kgbuild.entities", "kgbuild.relations", "kgbuild.resolution", "kgbuild.graph",
          "kgbuild.datasets",
          "kgbuild.evaluation", "kgbuild.workflows", "kgbuild.cli", "kgbuild.bench", "kgbuild.testing")

# (modules under this prefix, must never import any of these)
FORBIDDEN: list[tuple[str, tuple[str, ...]]] = [
    # the shared vocabulary depends on no stage, so every stage may import it
    *[(neutral, STAGES) for neutral in NEUTRAL],
    # the flow runs one way: documents → entities → relations → graph
    ("kgbuild.read", ("kgbuild.entities", "kgbuild.relations", "kgbuild.graph", "kgbuild.workflows")),
    ("kgbuild.entities", ("kgbuild.relations", "kgbuild.graph", "kgbuild.workflows")),
    ("kgbuild.relations", ("kgbuild.graph", "kgbuild.datasets", "kgbuild.evaluation", "kgbuild.workflows")),
    # resolution proposes alias decisions from names alone; the encoder is handed in
    ("kgbuild.resolution", ("kgbuild.read", "kgbuild.entities", "kgbuild.relations", "kgbuild.graph",
                            "kgbuild.datasets", "kgbuild.evaluation", "kgbuild.workflows",
                            *[m for m in MODELS if m != "faiss"])),
    # stores know no model and no stage before them
    ("kgbuild.graph", ("kgbuild.read", "kgbuild.entities", "kgbuild.relations", "kgbuild.resolution",
                       "kgbuild.datasets", "kgbuild.evaluation", "kgbuild.workflows", *MODELS)),
    # datasets turn files into CandidatePairs; they never touch a store or a model
    ("kgbuild.datasets", ("kgbuild.graph", "kgbuild.relations", "kgbuild.workflows", *MODELS)),
    ("kgbuild.evaluation", ("kgbuild.graph", "kgbuild.relations", "kgbuild.workflows", *MODELS)),
    # only the front end knows the front end; only front ends (CLI, benchmarks) call workflows
    *[(stage, ("kgbuild.cli",)) for stage in STAGES if stage != "kgbuild.cli"],
    *[(stage, ("kgbuild.workflows",)) for stage in STAGES
      if stage not in ("kgbuild.cli", "kgbuild.bench", "kgbuild.workflows")],
    # the review page is a front end too: only the CLI starts it, and it never imports the CLI
    *[(stage, ("kgbuild.web",)) for stage in STAGES if stage != "kgbuild.cli"],
    ("kgbuild.web", ("kgbuild.cli",)),
]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


MODULES = {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize("source,banned", FORBIDDEN, ids=[f"{s}" for s, _ in FORBIDDEN])
def test_import_directions(source: str, banned: tuple[str, ...]) -> None:
    violations = sorted(
        f"{module} imports {name}"
        for module, names in MODULES.items() if within(module, source)
        for name in names for prefix in banned if within(name, prefix)
    )
    assert not violations, "\n".join(violations)


def test_the_rules_see_the_tree() -> None:
    """A rule about a package that no longer exists would pass vacuously."""
    for source, _ in FORBIDDEN:
        assert any(within(module, source) for module in MODULES), source
    assert "kgbuild.relations.scorer" in MODULES and "torch" in MODULES["kgbuild.relations.scorer"]


def test_a_violation_is_caught(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from kgbuild.cli import app\n    import torch.nn\n", encoding="utf-8")
    assert {"kgbuild.cli", "kgbuild.cli.app", "torch.nn"} <= imports_of(probe)


def test_no_module_is_over_300_lines() -> None:
    long = {module_name(p): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300}
    assert not long, long
