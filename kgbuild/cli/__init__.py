"""The ``kgbuild`` command line: one thin module per command over a workflow function.

Each command parses its flags, calls one function from :mod:`kgbuild.workflows`, and prints.
"""

from __future__ import annotations

from kgbuild.cli import aliases, calibrate, evaluate, ingest, query, review, train  # noqa: F401  (registers)
from kgbuild.cli._common import app

__all__ = ["app"]
