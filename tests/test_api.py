"""The Python API: ``kgbuild.load().extract/ingest`` and ``kgbuild.open_store().query``, and the README's
example run as written."""

from __future__ import annotations

import re
import shutil
import warnings
from pathlib import Path
from typing import Any

import pytest

import kgbuild
from kgbuild.api import store_config
from kgbuild.config import StoreConfig
from kgbuild.errors import ConfigError
from kgbuild.graph.store import ReadOnlyQueryError

REPO = Path(__file__).resolve().parent.parent


def readme_python_block() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("## From Python", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_readme_example_is_at_most_ten_lines() -> None:
    lines = [line for line in readme_python_block().splitlines() if line.strip()]
    assert len(lines) <= 10


def test_import_kgbuild_is_light_and_exports_the_api() -> None:
    import subprocess
    import sys

    probe = "import sys, kgbuild; print('torch' in sys.modules, 'spacy' in sys.modules, sorted(kgbuild.__all__))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.startswith("False False")
    for name in ("load", "open_store", "Pipeline", "Store", "Triple"):
        assert name in kgbuild.__all__ and callable(getattr(kgbuild, name))


@pytest.mark.parametrize(("target", "kind", "where"), [
    ("graph.lbug", "embedded", "graph.lbug"),
    (Path("/tmp/x/graph.lbug"), "embedded", "/tmp/x/graph.lbug"),
    ("bolt://db.example:7687", "neo4j", "bolt://db.example:7687"),
    ("neo4j+s://db.example", "neo4j", "neo4j+s://db.example"),
])
def test_a_store_address_selects_the_store(target: Any, kind: str, where: str) -> None:
    config = store_config(target, StoreConfig())
    assert config.kind == kind
    assert (config.path if kind == "embedded" else config.neo4j.uri) == where


def test_an_unknown_address_or_a_missing_graph_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown store address"):
        store_config("http://example.org", StoreConfig())
    with pytest.raises(ConfigError, match="no graph at"):
        kgbuild.open_store(tmp_path / "missing.lbug")
    assert not (tmp_path / "missing.lbug").exists()  # asking to read never creates a store


def test_open_store_is_read_only_unless_asked(tmp_path: Path) -> None:
    path = tmp_path / "graph.lbug"
    with kgbuild.open_store(path, write=True) as graph:
        graph.query("CREATE (:Entity {key: $k, name: $n, type: 'PERSON'})", {"k": "person:ada", "n": "Ada"},
                    write=True)
        with pytest.raises(ReadOnlyQueryError):  # a writable store still reads unless the query asks
            graph.query("MATCH (e:Entity) DELETE e")
    with kgbuild.open_store(path) as graph:
        assert graph.query("MATCH (e:Entity) RETURN e.name AS name").rows == [["Ada"]]
        with pytest.raises(ReadOnlyQueryError, match="opened read-only"):
            graph.query("MATCH (e:Entity) DELETE e", write=True)
        with pytest.raises(ReadOnlyQueryError):
            graph.query("MATCH (e:Entity) DELETE e")
        assert graph.stats().nodes["Entity"] == 1
        titled = graph.query("MATCH (e:Entity) RETURN e.name, count(*), lower(e.name), e.type AS kind")
        assert titled.columns == ["e.name", "count(*)", "lower(e.name)", "kind"]  # as written, not rewritten


@pytest.mark.parametrize(("returned", "title"), [
    ("LABEL(r._ID,[,,,WORKS_FOR,,LIVES_IN,,LOCATED_IN])", "label(r)"),
    ("COUNT_STAR()", "count(*)"),
    ("LOWER(a.name)", "lower(a.name)"),
    ("a.name", "a.name"),
    ("MY_ALIAS", "MY_ALIAS"),
])
def test_embedded_column_titles_read_as_written(returned: str, title: str) -> None:
    from kgbuild.graph.ladybug_columns import column_title

    assert column_title(returned) == title


@pytest.fixture(scope="module")
def pipeline() -> kgbuild.Pipeline:
    return kgbuild.load()


@pytest.mark.model
def test_extract_returns_typed_triples_with_provenance(pipeline: kgbuild.Pipeline) -> None:
    text = "Ada Lovelace works for Acme Corp in London. She was born on 10 December 1815."
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # loading the models says nothing a user cannot act on
        triples = pipeline.extract(text, name="ada.txt")
    found = {(t.head.name, t.label, t.tail.name) for t in triples}
    assert ("Ada Lovelace", "works_for", "Acme Corp") in found
    born = [t for t in triples if t.label == "born_on"]
    assert born and born[0].head.name == "Ada Lovelace"  # "She", resolved as ingest resolves it
    assert born[0].evidence.head_text == "She"
    for triple in triples:
        assert isinstance(triple, kgbuild.Triple) and triple.head.type and triple.tail.type
        ev = triple.evidence
        assert 0.0 < ev.confidence <= 1.0 and ev.model and ev.sentence in text
        assert text[ev.tail_start:ev.tail_end] == triple.tail.name
    assert pipeline.extract("   ") == []
    assert pipeline.extract("no names here at all.") == []
    with pytest.raises(TypeError):
        pipeline.extract(b"bytes")  # type: ignore[arg-type]


@pytest.mark.model
def test_the_readme_example_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copytree(REPO / "examples" / "docs", tmp_path / "examples" / "docs")
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(compile(readme_python_block(), "README.md", "exec"), namespace)  # noqa: S102 - our own README
    printed = capsys.readouterr().out
    assert "Ada Lovelace works_for Acme Corp" in printed
    assert namespace["summary"].read == len(list((REPO / "examples" / "docs").iterdir()))
    assert namespace["summary"].triples > 10
    assert "[[" in printed  # the query's rows
    rerun = namespace["kg"].ingest("examples/docs", store="graph.lbug")
    assert rerun.read == 0 and rerun.unchanged == namespace["summary"].read  # the same models, idempotent
