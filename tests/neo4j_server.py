"""Start a real Neo4j 5.26 for tests and benchmarks, from Maven Central artefacts (no Docker).

Maven resolves ``tests/neo4j/pom.xml`` once (cached in ``~/.m2``), ``javac`` compiles the small
launcher, and the server runs on 127.0.0.1 with authentication and a generated password. The
server stops when the context exits, also when tests fail.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent / "neo4j"
LAUNCHER = HERE / "src" / "main" / "java" / "kgbuild" / "testing" / "Launcher.java"


class Neo4jUnavailable(RuntimeError):
    """Java or Maven is missing, so no test server can be started here."""


@dataclass(frozen=True)
class RunningNeo4j:
    uri: str
    user: str
    password: str


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _build(cache: Path) -> tuple[Path, str]:
    """Classpath from Maven and compiled launcher, rebuilt only when the pom or launcher changes."""
    for tool in ("mvn", "javac", "java"):
        if shutil.which(tool) is None:
            raise Neo4jUnavailable(f"'{tool}' is not on PATH; install Java 17 and Maven, or set NEO4J_URI")
    stamp = str(int(max((HERE / "pom.xml").stat().st_mtime, LAUNCHER.stat().st_mtime)))
    classes, cp_file, stamp_file = cache / "classes", cache / "classpath.txt", cache / "stamp"
    if stamp_file.exists() and stamp_file.read_text() == stamp and cp_file.exists():
        return classes, cp_file.read_text().strip()
    cache.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mvn", "-q", "-B", "-f", str(HERE / "pom.xml"), "dependency:build-classpath",
                    f"-Dmdep.outputFile={cp_file}"], check=True, stdout=subprocess.DEVNULL)
    classpath = cp_file.read_text().strip()
    shutil.rmtree(classes, ignore_errors=True)
    subprocess.run(["javac", "-d", str(classes), "-cp", classpath, str(LAUNCHER)], check=True)
    stamp_file.write_text(stamp)
    return classes, classpath


@contextmanager
def neo4j_server(timeout: float = 180.0) -> Iterator[RunningNeo4j]:
    cache = Path(os.environ.get("KGBUILD_CACHE", Path.home() / ".cache" / "kgbuild")) / "neo4j-test"
    classes, classpath = _build(cache)
    port = _free_port()
    password = secrets.token_urlsafe(16)
    home = Path(tempfile.mkdtemp(prefix="kgbuild-neo4j-"))
    env = {**os.environ, "NEO4J_TEST_PASSWORD": password}
    log = (home / "launcher.log").open("w")
    process = subprocess.Popen(
        ["java", "-Xms256m", "-Xmx1g", "-XX:+UseSerialGC", "-cp", f"{classes}{os.pathsep}{classpath}",
         "kgbuild.testing.Launcher", str(home / "db"), str(port)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, text=True,
    )
    try:
        _wait_ready(process, port, timeout, home)
        yield RunningNeo4j(uri=f"bolt://127.0.0.1:{port}", user="neo4j", password=password)
    finally:
        if process.stdin:
            process.stdin.close()  # the launcher shuts down cleanly on EOF
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
        shutil.rmtree(home, ignore_errors=True)


def _wait_ready(process: subprocess.Popen[str], port: int, timeout: float, home: Path) -> None:
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    line = process.stdout.readline()  # blocks until READY or exit
    if not line.startswith("READY"):
        tail = (home / "launcher.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"Neo4j test server did not start (exit {process.poll()}): {tail}")
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"Neo4j Bolt port {port} did not open within {timeout:.0f} s")
