"""kgbuild: document folders → RAG relation extraction → queryable knowledge graph."""

import os

# float32 matrix products bitwise the same whatever the thread count: MKL's strict reproducibility mode
# (about 2% slower), read when torch first calls MKL. Part of "a folder's graph does not depend on the
# thread count or the executor" (docs/PERFORMANCE.md, "Determinism"); a value the user set wins.
os.environ.setdefault("MKL_CBWR", "AUTO,STRICT")

__version__ = "0.1.0"

from kgbuild.api import Pipeline, Store, load, open_store  # noqa: E402  (after MKL_CBWR, before any torch import)
from kgbuild.types import Entity, Evidence, Triple  # noqa: E402

__all__ = ["Entity", "Evidence", "Pipeline", "Store", "Triple", "__version__", "load", "open_store"]
