"""The child process of :mod:`kgbuild.graph.isolated_query`: opens the embedded store read-only, answers one
query, writes the answer to the file the parent named. Run as ``python -m kgbuild.graph.isolated_query_child``."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Any

from kgbuild.errors import ReadOnlyQueryError, StoreError
from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.isolated_query import QueryRequest
from kgbuild.graph.store import QueryTimeoutError


def _answer(request: QueryRequest) -> tuple[str, Any]:
    try:
        store = EmbeddedStore(request.path, read_only=True, buffer_pool_mb=request.buffer_pool_mb, isolated=False)
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        try:
            result = store.query(request.cypher, request.params, timeout=request.timeout)
        finally:
            store.close()
    except ReadOnlyQueryError as exc:
        return "refused", str(exc)
    except QueryTimeoutError:
        return "timeout", request.timeout
    except StoreError as exc:
        return "error", str(exc)
    return "rows", (result.columns, result.rows)


def main(answer_path: str) -> None:
    request = pickle.loads(sys.stdin.buffer.read())  # noqa: S301  (sent by the parent process)
    Path(answer_path).write_bytes(pickle.dumps(_answer(request)))


if __name__ == "__main__":
    main(sys.argv[1])
