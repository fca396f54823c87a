"""One-time model preparation (a GGUF model's conversion, a bank's FAISS index), timed apart from loading.

A first run spends most of its model time here and later runs none, so the ingest summary shows it as
its own line: the seconds a user waits once, not on every run.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

_seconds = [0.0]  # this process's total; readers take differences, so it never needs resetting


@contextmanager
def preparing() -> Iterator[None]:
    """Around work that a cache makes unnecessary next time."""
    started = time.perf_counter()
    try:
        yield
    finally:
        _seconds[0] += time.perf_counter() - started


def prepared_seconds() -> float:
    """Seconds spent preparing so far in this process."""
    return _seconds[0]
