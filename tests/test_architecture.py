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
           "kgbuild.store_config", "kgbuild.training_config", "kgbuild.keys")
STAGES = ("kgbuild.read", "kgbuild.entities", "kgbuild.relations", "kgbuild.resolution", "kgbuild.graph",
          "kgbuild.datasets", "kgbuild.evaluation", "kgbuild.workflows", "kgbuild.cli", "kgbuild.bench",
          "kgbuild.testing", "kgbuild.web", "kgbuild.api", "kgbuild.spacy_component")
FRONT_ENDS = ("kgbuild.cli", "kgbuild.bench", "kgbuild.web", "kgbuild.api", "kgbuild.spacy_component")

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
    # only front ends (CLI, benchmarks, the review page, the Python API, the spaCy component) call workflows,
    # and no stage knows a front end: the CLI starts the review page, nothing else imports one
    *[(stage, ("kgbuild.workflows",)) for stage in STAGES if stage not in (*FRONT_ENDS, "kgbuild.workflows")],
    *[(stage, tuple(f for f in FRONT_ENDS if f != stage and not (stage == "kgbuild.cli" and f == "kgbuild.web")))
      for stage in STAGES],
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


def test_no_import_cycles() -> None:
    """Between modules, lazy imports included: a cycle that works only because one import is lazy breaks
    the day someone moves that import. A module importing its own parent package is not a cycle."""
    import networkx as nx

    def target(name: str) -> str | None:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        return name or None

    graph = nx.DiGraph()
    for module, names in MODULES.items():
        for name in names:
            found = target(name) if within(name, "kgbuild") else None
            if found and found != module and not module.startswith(found + "."):
                graph.add_edge(module, found)
    assert graph.number_of_edges() > 100  # the graph really is the package's
    assert not list(nx.simple_cycles(graph)), "import cycles"


def test_benchmarks_use_public_hooks_only() -> None:
    """A benchmark that reaches into a private attribute of another object breaks silently when that object
    changes; the stores and the scorer offer public hooks instead."""
    private = sorted(
        f"{path.name}:{node.lineno} {ast.unparse(node)}"
        for path in (PACKAGE / "bench").glob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__")
        and not (isinstance(node.value, ast.Name) and node.value.id in ("self", "torch", "sys"))
    )
    assert not private, "\n".join(private)


def test_no_module_is_over_300_lines() -> None:
    long = {module_name(p): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300}
    assert not long, long
