"""The embedded store's connection to LadybugDB: write transactions, and a new connection once the graph has
outgrown the plans of the old one.

LadybugDB's Python client keeps each statement's prepared plan for the life of its connection, with the join
order chosen for the tables' sizes when it was prepared. Plans made on an empty graph stayed in use as it grew:
one new document of ten facts took 1.56 s to write into a store of 50,000 facts, and 0.10 s on a new connection
(``python -m kgbuild.bench.store_growth``; docs/PERFORMANCE.md, "Embedded writes and the size of the store").
Closing a connection costs up to a second on such a store, so a new one is opened only when this process has
written more rows than it had written when the current one was opened: a few times over a whole load.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from kgbuild.graph.store import StoreError

log = logging.getLogger(__name__)

RENEW_AFTER_ROWS = 2000  # rows written before the first new connection


@dataclass
class ConnectionAge:
    """Rows written by this process, in all, and when the current connection was opened."""

    rows_written: int = 0
    rows_at_connect: int = 0

    def wrote(self, rows: int) -> None:
        self.rows_written += rows

    def outgrown(self) -> bool:
        return self.rows_written - self.rows_at_connect > max(RENEW_AFTER_ROWS, self.rows_at_connect)

    def renewed(self) -> None:
        self.rows_at_connect = self.rows_written


class TransactionHost(Protocol):
    def _run(self, cypher: str, params: dict[str, Any] | None = None) -> Any: ...

    def _renew_connection_if_grown(self) -> None: ...


class LadybugTransaction:
    """``BEGIN TRANSACTION`` on entry (on a new connection if the old one's plans are stale); ``COMMIT`` on a
    clean exit, ``ROLLBACK`` when the block raised."""

    def __init__(self, store: TransactionHost) -> None:
        self.store = store

    def __enter__(self) -> None:
        self.store._renew_connection_if_grown()
        self.store._run("BEGIN TRANSACTION")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if not exc_type:
            self.store._run("COMMIT")
            return
        try:
            self.store._run("ROLLBACK")
        except StoreError:  # the database already aborted it (e.g. out of buffer pool): keep the first error
            log.debug("rollback after a failed transaction", exc_info=True)


__all__ = ["RENEW_AFTER_ROWS", "ConnectionAge", "LadybugTransaction"]
