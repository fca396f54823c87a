"""A read-only query on the embedded store, run in a child process that may die without harm.

LadybugDB runs in the caller's process. Its own time limit is checked between operator batches, not
inside one expression (``range(1, 1000000000)`` ran for a minute past a one-second limit), and a parser
or an expression can exhaust the stack or the memory. So the read-only store hands each user query to a
fresh interpreter that opens the database read-only, applies every wall of :meth:`BaseGraphStore.query`,
and writes its answer to a file. The parent waits at most the time limit (plus start-up), kills the child
past it, and turns any death into one error line. The store file is opened read-only throughout.
"""

from __future__ import annotations

import pickle
import select
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgbuild.errors import ReadOnlyQueryError, StoreError
from kgbuild.graph.store import QueryResult, QueryTimeoutError

# A fresh interpreter imports the store and opens the database before the query's clock starts.
START_UP_SECONDS = 60.0
# The child's side lives in its own module, which imports the store: this one must not (the store imports it).
CHILD_MODULE = "kgbuild.graph.isolated_query_child"
# The database's own limit stops most queries in time; the child is killed this much later.
_GRACE_SECONDS = 2.0


@dataclass(frozen=True)
class QueryRequest:
    path: str
    buffer_pool_mb: int
    cypher: str
    params: dict[str, Any]
    timeout: float | None


def run_isolated(request: QueryRequest) -> QueryResult:
    """The child's answer, or the child's error re-raised here; a killed or crashed child is a StoreError.
    The time limit counts from the moment the child has opened the database."""
    with tempfile.TemporaryDirectory(prefix="kgbuild-query-") as folder:
        answer, errors = Path(folder) / "answer.pickle", Path(folder) / "stderr.txt"
        with errors.open("wb") as stderr, subprocess.Popen([sys.executable, "-m", CHILD_MODULE, str(answer)],
                                                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                                            stderr=stderr) as child:
            assert child.stdin is not None and child.stdout is not None
            try:
                child.stdin.write(pickle.dumps(request))
                child.stdin.close()
            except BrokenPipeError:  # it died before reading: reported below, from how it ended
                pass
            ready, _, _ = select.select([child.stdout], [], [], START_UP_SECONDS)  # a line, or EOF if it died
            if not ready:
                child.kill()
                raise StoreError(f"the query process did not open the store within {START_UP_SECONDS:g} s")
            try:
                child.wait(None if request.timeout is None else request.timeout + _GRACE_SECONDS)
            except subprocess.TimeoutExpired as exc:
                child.kill()
                raise QueryTimeoutError(request.timeout) from exc
        if not answer.exists():
            raise StoreError(f"the database process ended on this query without an answer "
                             f"({_ending(child.returncode, errors.read_text('utf-8', 'replace'))}); "
                             "the store was open read-only and is unchanged")
        kind, payload = pickle.loads(answer.read_bytes())  # noqa: S301  (written by our own child just now)
    if kind == "rows":
        return QueryResult(*payload)
    if kind == "timeout":
        raise QueryTimeoutError(payload)
    raise (ReadOnlyQueryError if kind == "refused" else StoreError)(payload)


def _ending(returncode: int, stderr: str) -> str:
    if returncode < 0:
        return f"killed by signal {-returncode}"
    last = stderr.strip().splitlines()[-1:] or [""]
    return f"exit {returncode}" + (f": {last[0][:200]}" if last[0] else "")
