"""Hostile input and crashes: a generated corpus of bad files, SIGKILL mid-write, Neo4j lost mid-run.

The default pipeline with a tiny labeller (conftest.quick_pipeline) labels the few good files; every bad one
must cost one line, never the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from graph_cases import SCHEMA, make_triple
from quick_pipeline import quick_pipeline_config
from test_reader import bomb_pdf, tiny_pdf
from typer.testing import CliRunner

from kgbuild.cli import app
from kgbuild.config import Neo4jConfig
from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.store import StoreError

REPO = Path(__file__).resolve().parent.parent
GOOD = ["01-acme-ceo.txt", "06-startup.txt"]
EXIT_FILES_FAILED = 3


def hostile_corpus(root: Path, outside: Path) -> dict[str, str]:
    """Writes the corpus; returns the expected reason fragment for every bad entry, by file name."""
    root.mkdir(parents=True)
    for name in GOOD:
        shutil.copy(REPO / "examples" / "docs" / name, root / name)
    (root / "Zoë report 東京 with spaces.txt").write_bytes(
        (REPO / "examples" / "docs" / GOOD[0]).read_text(encoding="utf-8").encode("utf-16"))  # BOM: read
    (root / "mixed endings.txt").write_bytes(b"Short line.\r\nAnother line.\rLast line.\n")
    (root / "empty.txt").write_bytes(b"")
    (root / "binary.txt").write_bytes(bytes(range(256)) * 40)
    with (root / "huge.txt").open("wb") as huge:
        huge.truncate(50 << 20)  # 50 MB, over reader.max_bytes
    (root / "bad-utf8.txt").write_bytes(b"caf\xe9 au lait \xff\xfe\xfd")
    (root / "no-text.pdf").write_bytes(tiny_pdf(""))
    (root / "corrupt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage")
    (root / "bomb.pdf").write_bytes(bomb_pdf(120 << 20))
    (root / "scripts-only.html").write_text("<html><head><style>p{}</style></head><body><script>x=1</script>"
                                            "</body></html>", encoding="utf-8")
    deep = root.joinpath(*[f"level{i}" for i in range(30)])
    deep.mkdir(parents=True)
    (deep / "deep.md").write_text("Deep down, nothing but a note.", encoding="utf-8")
    (root / "loop").symlink_to(root)
    (root / "escape.txt").symlink_to(outside)
    os.mkfifo(root / "pipe.txt")
    return {"empty.txt": "empty", "binary.txt": "binary", "huge.txt": "max_bytes", "bad-utf8.txt": "UTF-8",
            "no-text.pdf": "no text", "corrupt.pdf": "PDF", "bomb.pdf": "LimitReachedError",
            "scripts-only.html": "no text", "loop": "already read", "escape.txt": "outside the input folder",
            "pipe.txt": "FIFO"}


def export(store_path: str, out: Path, *extra: str) -> bytes:
    result = CliRunner().invoke(app, ["export", str(out), "--store-path", store_path, *extra])
    assert result.exit_code == 0, result.output
    return out.read_bytes()


@pytest.mark.model
def test_hostile_corpus_completes_and_reports_every_bad_file(tmp_path: Path, quick_pipeline: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("Outside text that must never be read.", encoding="utf-8")
    expected = hostile_corpus(tmp_path / "corpus", outside)
    graph, report = str(tmp_path / "g.lbug"), tmp_path / "run.json"
    result = CliRunner().invoke(app, ["ingest", str(tmp_path / "corpus"), "--store-path", graph, "--report",
                                      str(report), "--pipeline", str(quick_pipeline)])
    assert result.exit_code == EXIT_FILES_FAILED, result.output  # some files failed; the good ones are written
    run = json.loads(report.read_text(encoding="utf-8"))
    problems = {Path(p["path"]).name: p["reason"] for p in run["skipped"] + run["failed"]}
    assert set(problems) == set(expected), problems
    for name, fragment in expected.items():
        assert fragment in problems[name], (name, problems[name])
        assert sum(name in line for line in result.output.splitlines()) == 1, name  # one line each
    assert run["read"] == 5 and run["triples"] > 0  # 2 good, the UTF-16 one, mixed endings, the deep note
    store = EmbeddedStore(graph, read_only=True)
    try:
        assert not any("secret" in d.path for d in store.documents().values())
    finally:
        store.close()

    clean = tmp_path / "clean"  # the good files alone give the same triples
    clean.mkdir()
    for name in GOOD:
        shutil.copy(REPO / "examples" / "docs" / name, clean / name)
    shutil.copy(tmp_path / "corpus" / "Zoë report 東京 with spaces.txt", clean / "zoe.txt")
    assert CliRunner().invoke(app, ["ingest", str(clean), "--store-path", str(tmp_path / "c.lbug"),
                                    "--pipeline", str(quick_pipeline)]).exit_code == 0
    lines = [json.loads(x) for x in export(graph, tmp_path / "a.jsonl").decode().splitlines()]
    clean_lines = [json.loads(x) for x in export(str(tmp_path / "c.lbug"), tmp_path / "b.jsonl").decode().splitlines()]
    assert lines == clean_lines


CRASHING_RUN = """
import os, signal, sys
import kgbuild.graph.embedded, kgbuild.graph.neo4j_store
from kgbuild.graph.base import BaseGraphStore
from kgbuild.cli import app

documents, dying = 0, False

def die():
    os.kill(os.getpid(), signal.SIGKILL)

for store in BaseGraphStore.__subclasses__():
    def replace(self, *args, _original=store.replace_document, **kwargs):
        global documents, dying
        documents += 1
        dying = documents == int(os.environ["KILL_AT"])
        _original(self, *args, **kwargs)
        if dying:
            die()  # the document had no edges to die in: die right after it
    def merge_edges(self, *args, _original=store._merge_edges, **kwargs):
        _original(self, *args, **kwargs)
        if dying:
            die()  # mid-transaction: this document's edges are written, nothing of it is committed
    store.replace_document, store._merge_edges = replace, merge_edges
app(sys.argv[1:])
"""


def ingest_process(args: list[str], env: dict[str, str], kill_at: int = 0) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-c", CRASHING_RUN] if kill_at else [sys.executable, "-m", "kgbuild.cli"]
    return subprocess.run([*command, "ingest", *args], env={**os.environ, **env, "KILL_AT": str(kill_at)},
                          capture_output=True, text=True, timeout=600)


@pytest.mark.model
@pytest.mark.parametrize("kind", ["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def test_sigkill_mid_run_then_rerun_equals_a_clean_run(kind: str, tmp_path: Path, quick_pipeline: Path,
                                                        request: pytest.FixtureRequest) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ["01-acme-ceo.txt", "02-harbor-bridge.txt", "06-startup.txt", "09-football.txt"]:
        shutil.copy(REPO / "examples" / "docs" / name, folder / name)
    env: dict[str, str] = {}
    if kind == "neo4j":
        config: Neo4jConfig = request.getfixturevalue("neo4j_config")
        assert config.password is not None
        env = {"NEO4J_URI": config.uri, "NEO4J_USER": config.user, "NEO4J_PASSWORD": config.password.get_secret_value()}

    def target(name: str) -> list[str]:
        if kind == "embedded":
            return ["--store-path", str(tmp_path / f"{name}.lbug"), "--pipeline", str(quick_pipeline)]
        wipe = CliRunner().invoke(app, ["query", "MATCH (n) DETACH DELETE n", "--write", "--store", "neo4j"], env=env)
        assert wipe.exit_code == 0, wipe.output
        return ["--store", "neo4j", "--pipeline", str(quick_pipeline)]

    def exported(args: list[str]) -> bytes:
        out = tmp_path / "out.jsonl"
        result = CliRunner().invoke(app, ["export", str(out), *args], env=env)
        assert result.exit_code == 0, result.output
        return out.read_bytes()

    clean_args = target("clean")
    assert ingest_process([str(folder), *clean_args], env).returncode == 0
    clean = exported(clean_args)
    crash_args = target("crash")
    killed = ingest_process([str(folder), *crash_args], env, kill_at=3)
    assert killed.returncode == -9, killed.stderr[-2000:]
    partial = exported(crash_args)
    assert 0 < len(partial) < len(clean)  # finished documents were kept, the one in flight was not half-written
    rerun = ingest_process([str(folder), *crash_args], env)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert exported(crash_args) == clean  # byte for byte


class Proxy:
    """A TCP forwarder in front of Neo4j that a test can cut, as a network or server failure would."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream, self.port = upstream, 0
        self.sockets: list[socket.socket] = []
        self.listener: socket.socket | None = None

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        self.port, self.listener = listener.getsockname()[1], listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self.sockets += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass

    def cut(self) -> None:
        if self.listener is not None:
            with contextlib.suppress(OSError):
                self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accepting thread; close() alone does not
            self.listener.close()
            self.listener = None
        for sock in self.sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self.sockets = []


@pytest.fixture
def proxy(neo4j_config: Neo4jConfig) -> Iterator[Proxy]:
    host, port = neo4j_config.uri.split("://", 1)[1].rsplit(":", 1)
    forwarder = Proxy((host, int(port)))
    forwarder.start()
    yield forwarder
    forwarder.cut()


@pytest.mark.model
@pytest.mark.neo4j
def test_neo4j_lost_mid_run_is_one_line_and_a_rerun_completes(
        proxy: Proxy, neo4j_config: Neo4jConfig, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        tiny_llama_dir: Path) -> None:
    from kgbuild.graph.neo4j_store import Neo4jStore

    folder = tmp_path / "docs"
    folder.mkdir()
    for name in ["01-acme-ceo.txt", "02-harbor-bridge.txt", "06-startup.txt"]:
        shutil.copy(REPO / "examples" / "docs" / name, folder / name)
    assert neo4j_config.password is not None
    env = {"NEO4J_URI": f"bolt://127.0.0.1:{proxy.port}", "NEO4J_USER": neo4j_config.user,
           "NEO4J_PASSWORD": neo4j_config.password.get_secret_value()}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    runner = CliRunner()
    pipeline = tmp_path / "pipeline.yaml"  # the quick pipeline, retrying a lost server for 1 s, not 30
    config = quick_pipeline_config(tiny_llama_dir)
    config["store"]["neo4j"]["retry_seconds"] = 1
    pipeline.write_text(yaml.safe_dump(config), encoding="utf-8")
    base = ["--store", "neo4j", "--pipeline", str(pipeline)]
    assert runner.invoke(app, ["query", "MATCH (n) DETACH DELETE n", "--write", *base]).exit_code == 0
    assert runner.invoke(app, ["ingest", str(folder), *base]).exit_code == 0
    clean = export_neo4j(runner, tmp_path, base)
    assert runner.invoke(app, ["query", "MATCH (n) DETACH DELETE n", "--write", *base]).exit_code == 0

    written = 0
    original = Neo4jStore.replace_document

    def replace_then_cut(self: Neo4jStore, *args: Any, **kwargs: Any) -> None:
        nonlocal written
        if written == 1:
            proxy.cut()
        original(self, *args, **kwargs)
        written += 1

    monkeypatch.setattr(Neo4jStore, "replace_document", replace_then_cut)
    lost = runner.invoke(app, ["ingest", str(folder), *base])
    assert lost.exit_code == 1 and len(lost.output.strip().splitlines()) == 1, lost.output
    assert "Neo4j" in lost.output and env["NEO4J_PASSWORD"] not in lost.output
    monkeypatch.setattr(Neo4jStore, "replace_document", original)
    proxy.start()
    store = Neo4jStore(neo4j_config)
    try:
        assert len(store.documents()) == 1  # the finished document was kept
    finally:
        store.close()
    assert runner.invoke(app, ["ingest", str(folder), *base]).exit_code == 0
    assert export_neo4j(runner, tmp_path, base) == clean


def export_neo4j(runner: CliRunner, tmp_path: Path, base: list[str]) -> bytes:
    out = tmp_path / "neo.jsonl"
    result = runner.invoke(app, ["export", str(out), *base])
    assert result.exit_code == 0, result.output
    return out.read_bytes()


HOLD_WRITER = """
import sys
from graph_cases import SCHEMA, make_triple
from kgbuild.graph.embedded import EmbeddedStore
store = EmbeddedStore(sys.argv[1])
store.ensure_schema(SCHEMA)
store.write_triples([make_triple("Ann", "works_for", "Acme")])
print("ready", flush=True)
sys.stdin.read()  # hold the store until the test closes our stdin
store.close()
"""


def test_a_second_writer_is_refused_in_one_line_and_readers_see_committed_data(tmp_path: Path) -> None:
    path = tmp_path / "g.lbug"
    writer = subprocess.Popen([sys.executable, "-c", HOLD_WRITER, str(path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).parent,
                              env={**os.environ, "PYTHONPATH": str(Path(__file__).parent)})
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        with pytest.raises(StoreError, match="cannot open embedded graph"):
            EmbeddedStore(path)
        (tmp_path / "docs").mkdir()
        refused = CliRunner().invoke(app, ["ingest", str(tmp_path / "docs"), "--store-path", str(path)])
        assert refused.exit_code == 1 and len(refused.output.strip().splitlines()) == 1, refused.output
        assert "cannot open embedded graph" in refused.output
        for command in (["query", "MATCH (e:Entity) RETURN count(e) AS n", "--json"], ["stats"]):
            read = CliRunner().invoke(app, [*command, "--store-path", str(path)])  # readers see committed data
            assert read.exit_code == 0 and "Traceback" not in read.output, read.output
        assert '{"n": 2}' in read.output or "Entity" in read.output
    finally:
        assert writer.stdin is not None
        writer.stdin.close()
        writer.wait(timeout=60)


def test_graphml_export_sanitises_control_characters_and_cleans_up(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import networkx as nx

    path = tmp_path / "g.lbug"
    store = EmbeddedStore(path)
    store.ensure_schema(SCHEMA)
    store.write_triples([make_triple("Ann\x1b[31m", "works_for", "Acme\x00\x07 Ltd", sentence="Bell \x07 here.")])
    store.close()
    out = tmp_path / "g.graphml"
    export(str(path), out, "--format", "graphml")
    graph = nx.read_graphml(out)
    names = sorted(data["name"] for _, data in graph.nodes(data=True))
    assert names == ["Acme\ufffd\ufffd Ltd", "Ann\ufffd[31m"]
    evidence = json.loads(next(iter(graph.edges(data=True)))[2]["evidence"])
    assert json.loads(evidence[0])["sentence"] == "Bell \x07 here."  # JSON escapes keep evidence verbatim

    def broken(graph: Any, target: Path) -> None:
        Path(target).write_text("<partial", encoding="utf-8")
        raise OSError("disk full")

    monkeypatch.setattr(nx, "write_graphml", broken)
    result = CliRunner().invoke(app, ["export", str(tmp_path / "x.graphml"), "--format", "graphml", "--store-path",
                                      str(path)])
    assert result.exit_code == 1 and "disk full" in result.output
    assert not list(tmp_path.glob("x.graphml*"))
