"""Hostile input to the commands themselves: store records, pipeline files and names a user or an attacker
controls. Each must cost one line and exit 1 (never a traceback, never file contents echoed), or be shown
as text."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from graph_cases import SCHEMA, make_triple
from pydantic import ValidationError
from test_attack_file_names import shared_nlp, write_pipeline  # noqa: F401 - a fixture used by name
from typer.testing import CliRunner

from kgbuild.cli import app
from kgbuild.cli._common import console
from kgbuild.config import PipelineConfig, RetrieverConfig, load_pipeline
from kgbuild.errors import ConfigError, KgbuildError, MalformedRecordError
from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.types import Alias, Evidence, entity_key

SECRET = "TOPSECRET-hunter2"
HOSTILE_TYPE = "[bold]ORG[/bold]\x1b[31m"
HOSTILE_REASON = "[red]acronym[/red]\x1b[2J"


def one_line_error(result: Any) -> str:
    assert result.exit_code == 1, result.output
    assert len(result.output.strip().splitlines()) == 1 and "Traceback" not in result.output, result.output
    assert result.output.startswith("error:"), result.output
    return str(result.output)


def test_aliases_prints_type_reason_and_the_undo_message_as_text(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(console, "width", 200)  # no cell cut short
    path = tmp_path / "g.lbug"
    store = EmbeddedStore(path)
    store.ensure_schema(SCHEMA)
    store.write_triples([make_triple("Ann", "works_for", name, tail_type=HOSTILE_TYPE, index=i)
                         for i, name in enumerate(["Acme Corporation", "ACME"])])
    store.merge_aliases([Alias("ACME", HOSTILE_TYPE, "Acme Corporation", HOSTILE_REASON, 0.5)])
    store.close()
    listed = CliRunner().invoke(app, ["aliases", "--store-path", str(path)])
    assert listed.exit_code == 0, listed.output
    assert "\x1b" not in listed.output
    for shown in ("[bold]ORG[/bold]\\x1b[31m", "[red]acronym[/red]\\x1b[2J"):
        assert shown in listed.output, listed.output
    key = entity_key("ACME", HOSTILE_TYPE)
    undone = CliRunner().invoke(app, ["aliases", "--undo", key, "--store-path", str(path)])
    assert undone.exit_code == 0 and "\x1b" not in undone.output, undone.output
    assert "split acme|[bold]ORG[/bold]\\x1b[31m out of Acme Corporation" in undone.output, undone.output


@pytest.mark.parametrize("content", [
    f"root:x:0:0:{SECRET}:/root:/bin/bash\ndaemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n".encode(),
    f"password: {SECRET}\n".encode(),
    f"[{SECRET}\n".encode(),  # not YAML
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + SECRET.encode() + bytes(range(256)),
], ids=["passwd", "mapping", "bad-yaml", "binary"])
def test_a_schema_that_is_any_file_is_one_line_without_its_contents(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "secret").write_bytes(content)
    (tmp_path / "docs").mkdir()
    pipeline = write_pipeline(tmp_path, schema=str(tmp_path / "secret"))
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "docs"), "--pipeline", str(pipeline),
                                      "--store-path", str(tmp_path / "g.lbug")])
    assert SECRET not in one_line_error(result)
    assert "secret" in result.output and not (tmp_path / "g.lbug").exists()


@pytest.mark.parametrize("content", [
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4,
    f"name: caf\xe9 {SECRET}\n".encode("latin-1"),
], ids=["binary", "latin-1"])
def test_a_pipeline_file_that_is_not_text_is_one_line(tmp_path: Path, content: bytes) -> None:
    pipeline = tmp_path / "pipeline.yaml"
    pipeline.write_bytes(content)
    result = CliRunner().invoke(app, ["stats", "--pipeline", str(pipeline), "--store-path", str(tmp_path / "g")])
    assert SECRET not in one_line_error(result) and "pipeline.yaml" in result.output


@pytest.mark.parametrize("text", ["not json", "[1, 2]", "null", '{"doc_id": "doc-1"}',
                                  json.dumps({**json.loads(make_triple("A", "works_for", "B").evidence.to_json()),
                                              "sentence_index": "zero"}),
                                  json.dumps({**json.loads(make_triple("A", "works_for", "B").evidence.to_json()),
                                              "extra": 1})])
def test_a_malformed_evidence_record_raises_a_clear_error(text: str) -> None:
    evidence = make_triple("A", "works_for", "B").evidence
    assert Evidence.from_json(evidence.to_json()) == evidence
    with pytest.raises(MalformedRecordError, match="evidence record") as raised:
        Evidence.from_json(text)
    assert isinstance(raised.value, KgbuildError)


def test_export_of_a_store_with_a_malformed_evidence_record_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "g.lbug"
    store = EmbeddedStore(path)
    store.ensure_schema(SCHEMA)
    store.write_triples([make_triple("Ann", "works_for", "Acme")])
    store.query(f"MATCH (v:Evidence) SET v.record = 'not json {SECRET}'", write=True)
    store.close()
    result = CliRunner().invoke(app, ["export", str(tmp_path / "out.jsonl"), "--store-path", str(path)])
    assert "evidence record" in one_line_error(result) and SECRET not in result.output


@pytest.mark.parametrize("name", ["../../x", "a/b", "..", ".hidden", "a\\b", "evil\x1b[2J", "new\nline", "",
                                  "a..b"])
def test_a_pipeline_name_must_be_a_plain_file_name(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValidationError):
        PipelineConfig(name=name)
    pipeline = write_pipeline(tmp_path, name=name)
    with pytest.raises(ConfigError, match="name"):
        load_pipeline(pipeline)


def test_corrections_stay_in_their_folder_and_a_link_out_is_refused(tmp_path: Path) -> None:
    for name in ["default", "conll04-rag-lora", "v1.2_test", "Zoë"]:  # plain names keep working
        config = load_pipeline(write_pipeline(tmp_path, name=name))
        assert config.corrections_path() == tmp_path / f"{name}.corrections.jsonl"
    outside = tmp_path / "outside.jsonl"
    folder = tmp_path / "pipelines"
    folder.mkdir()
    (folder / "attack.corrections.jsonl").symlink_to(outside)
    config = load_pipeline(write_pipeline(folder))
    with pytest.raises(ConfigError, match="corrections"):
        config.corrections_path()
    moved = config.model_copy(update={"retriever": RetrieverConfig(corrections=str(tmp_path / "{name}.jsonl"))})
    assert moved.corrections_path() == tmp_path / "attack.jsonl"  # a folder the file names is its own


@pytest.mark.parametrize("bank", [None, b"\x89PNG\r\n\x1a\n" + bytes(range(256)), b'{"not": "an example"}\n'],
                         ids=["missing", "binary", "not-examples"])
def test_an_ingest_that_fails_on_its_bank_leaves_no_store(shared_nlp: Any, tmp_path: Path,  # noqa: F811
                                                          bank: bytes | None) -> None:
    if bank is not None:
        (tmp_path / "bank.jsonl").write_bytes(bank)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Ann Smith works for Acme Corporation in Boston.", encoding="utf-8")
    pipeline = write_pipeline(tmp_path, retriever={"bank": "bank.jsonl", "k": 1})
    store = tmp_path / "graphs" / "g.lbug"
    result = CliRunner().invoke(app, ["ingest", str(folder), "--pipeline", str(pipeline), "--store-path", str(store)])
    assert "bank" in one_line_error(result)
    assert not store.exists() and not list(store.parent.glob("g.lbug*"))
    graph = EmbeddedStore(store)  # a store that was there before the run stays
    graph.ensure_schema(SCHEMA)
    graph.close()
    one_line_error(CliRunner().invoke(app, ["ingest", str(folder), "--pipeline", str(pipeline), "--store-path",
                                            str(store)]))
    assert store.exists()
