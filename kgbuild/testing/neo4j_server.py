"""Start a real Neo4j 5.26 for tests and benchmarks from Maven Central artefacts (no Docker).

Maven resolves ``tests/neo4j/pom.xml`` once (artefacts cached in ``~/.m2``), ``javac`` compiles
the small launcher next to it, and the server runs on 127.0.0.1 with authentication on and a
generated password. It stops when the context exits, also when the body raises. The launcher
sources live in the source checkout, so this works from a clone (editable install), not a wheel.
"""

from __future__ import annotations

import hashlib
import os
import queue
import secrets
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from pydantic import SecretStr

from kgbuild.config import Neo4jConfig
from kgbuild.errors import StoreError

LAUNCHER_DIR = Path(__file__).resolve().parents[2] / "tests" / "neo4j"
LAUNCHER_CLASS = "kgbuild.testing.Launcher"
JVM_OPTIONS = ("-XX:+UseSerialGC",)  # one collector thread: the tests share 2 cores with the JVM


class Neo4jUnavailable(StoreError):
    """No test server can be built here (no Java/Maven, artefacts unreachable, no source checkout)."""


@dataclass(frozen=True)
class RunningNeo4j:
    uri: str
    user: str
    password: str

    def config(self, **overrides: Any) -> Neo4jConfig:
        return Neo4jConfig(uri=self.uri, user=self.user, password=SecretStr(self.password), **overrides)


def admin_tool(arguments: list[str], neo4j_home: Path, cwd: Path, heap_mb: int = 1024,
               timeout: float = 600.0) -> subprocess.CompletedProcess[str]:
    """``neo4j-admin ARGUMENTS`` (``org.neo4j.cli.AdminTool`` from the test server's Maven classpath) on the
    Neo4j home ``neo4j_home``, run in ``cwd``: how the tests and benchmarks run the real import tool."""
    _, classpath = build_launcher()
    (neo4j_home / "conf").mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NEO4J_HOME": str(neo4j_home), "NEO4J_CONF": str(neo4j_home / "conf")}
    return subprocess.run(["java", f"-Xmx{heap_mb}m", *JVM_OPTIONS, "-cp", classpath, "org.neo4j.cli.AdminTool",
                           *arguments], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def cache_dir() -> Path:
    return Path(os.environ.get("KGBUILD_CACHE", Path.home() / ".cache" / "kgbuild")) / "neo4j-test"


def build_launcher(cache: Path | None = None) -> tuple[Path, str]:
    """Compiled launcher and its classpath; rebuilt only when the pom or the launcher source changes."""
    cache = cache or cache_dir()
    pom, sources = LAUNCHER_DIR / "pom.xml", sorted((LAUNCHER_DIR / "src").rglob("*.java"))
    if not pom.is_file() or not sources:
        raise Neo4jUnavailable(f"launcher sources not found under {LAUNCHER_DIR} (needs a source checkout)")
    for tool in ("mvn", "javac", "java"):
        if shutil.which(tool) is None:
            raise Neo4jUnavailable(f"'{tool}' is not on PATH: install Java 17+ and Maven, or set NEO4J_URI")
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in [pom, *sources])).hexdigest()
    classes, cp_file, stamp = cache / "classes", cache / "classpath.txt", cache / "stamp"
    if stamp.is_file() and stamp.read_text() == digest and cp_file.is_file() and classes.is_dir():
        return classes, cp_file.read_text().strip()
    cache.mkdir(parents=True, exist_ok=True)
    maven = subprocess.run(
        ["mvn", "-q", "-B", "-f", str(pom), "dependency:build-classpath", f"-Dmdep.outputFile={cp_file}"],
        capture_output=True, text=True,
    )
    if maven.returncode != 0 or not cp_file.is_file():
        tail = " ".join((maven.stdout + maven.stderr).split())[-600:]
        raise Neo4jUnavailable(f"Maven could not resolve the Neo4j artefacts from {pom}: {tail}")
    classpath = cp_file.read_text().strip()
    fresh = Path(tempfile.mkdtemp(prefix="classes-", dir=cache))
    subprocess.run(["javac", "-d", str(fresh), "-cp", classpath, *map(str, sources)], check=True)
    shutil.rmtree(classes, ignore_errors=True)
    fresh.rename(classes)
    stamp.write_text(digest)
    return classes, classpath


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def neo4j_server(timeout: float = 240.0, pagecache_mb: int = 128, heap_mb: int = 1024,
                 home: Path | None = None) -> Iterator[RunningNeo4j]:
    """Run a throw-away Neo4j (temporary database folder) until the ``with`` block ends; or one on ``home``,
    a Neo4j home whose databases (``data/databases``, e.g. from ``neo4j-admin database import``) are kept."""
    classes, classpath = build_launcher()
    port = free_port()
    password = secrets.token_urlsafe(18)
    scratch = Path(tempfile.mkdtemp(prefix="kgbuild-neo4j-"))
    log_path = scratch / "launcher.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            ["java", f"-Xms{min(256, heap_mb)}m", f"-Xmx{heap_mb}m", *JVM_OPTIONS,
             "-cp", f"{classes}{os.pathsep}{classpath}", LAUNCHER_CLASS,
             str(home or scratch / "db"), str(port), str(pagecache_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True,
            env={**os.environ, "NEO4J_TEST_PASSWORD": password},
        )
        try:
            running = RunningNeo4j(uri=f"bolt://127.0.0.1:{port}", user="neo4j", password=password)
            _wait_ready(process, running, time.monotonic() + timeout, log_path)
            yield running
        finally:
            _stop(process)
            shutil.rmtree(scratch, ignore_errors=True)


def _stop(process: subprocess.Popen[str]) -> None:
    if process.stdin:
        process.stdin.close()  # the launcher shuts down cleanly on EOF
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_ready(process: subprocess.Popen[str], server: RunningNeo4j, deadline: float, log_path: Path) -> None:
    """Wait for the launcher's READY line, then for Bolt to accept a login (never longer than ``deadline``)."""
    import neo4j
    from neo4j.exceptions import ServiceUnavailable

    def failed(why: str) -> RuntimeError:
        tail = log_path.read_text(errors="replace")[-2000:]
        return RuntimeError(f"Neo4j test server {why} (exit code {process.poll()}); launcher log tail: {tail}")

    assert process.stdout is not None
    line = _read_line(process.stdout, deadline - time.monotonic())
    if line is None or not line.startswith("READY"):
        raise failed("did not start")
    with neo4j.GraphDatabase.driver(server.uri, auth=(server.user, server.password)) as driver:
        while True:
            try:
                driver.verify_connectivity()
                return
            except ServiceUnavailable:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise failed("never answered on Bolt") from None
                time.sleep(0.2)


def _read_line(stream: IO[str], timeout: float) -> str | None:
    """First line of ``stream``, or None on EOF or after ``timeout`` s (a bare readline could hang).

    A daemon thread keeps draining the stream afterwards, so a chatty JVM never blocks on a full pipe.
    """
    lines: queue.Queue[str] = queue.Queue()

    def drain() -> None:
        for line in stream:
            lines.put(line)
        lines.put("")

    threading.Thread(target=drain, daemon=True).start()
    try:
        return lines.get(timeout=max(timeout, 0.0)) or None
    except queue.Empty:
        return None
