"""LadybugDB results as a user reads them: column titles as written, values as plain Python.

LadybugDB names an unaliased column by its rewritten expression: ``label(r)`` comes back as
``LABEL(r._ID,[,,,WORKS_FOR,,LIVES_IN,...])`` and ``count(*)`` as ``COUNT_STAR()``. Neo4j names it by the
text as written. Only the title changes; the rows are the database's.
"""

from __future__ import annotations

import re
from typing import Any

_COUNT_STAR = re.compile(r"\bCOUNT_STAR\(\)")
_INTERNAL_ID = re.compile(r"\b([A-Z][A-Z_]*)\((\w+)\._ID(?:,\[[^\]]*\])?\)")  # LABEL(r._ID,[...]), ID(n._ID)
_FUNCTION = re.compile(r"\b([A-Z][A-Z0-9_]*)(?=\()")


def column_title(name: str) -> str:
    """``LABEL(r._ID,[...])`` → ``label(r)``, ``COUNT_STAR()`` → ``count(*)``, ``LOWER(a.name)`` →
    ``lower(a.name)``; a name LadybugDB kept as written (``a.name``, an alias) is returned unchanged."""
    title = _COUNT_STAR.sub("count(*)", name)
    title = _INTERNAL_ID.sub(lambda m: f"{m.group(1).lower()}({m.group(2)})", title)
    return _FUNCTION.sub(lambda m: m.group(1).lower(), title)


def all_rows(result: Any) -> list[list[Any]]:
    return [result.get_next() for _ in iter(result.has_next, False)]


def plain_value(value: Any) -> Any:
    """Ladybug nodes/relationships → plain dicts without internal ids, for tables and JSON. A property
    without a value is left out, as Neo4j leaves it out: a variable that may bind several tables carries
    every table's columns (an ``Entity``-to-``Entity`` ``r`` has ``MENTIONED_IN``'s ``start_char``, null)."""
    if isinstance(value, dict):
        if "_LABEL" in value:
            out = {k: plain_value(v) for k, v in value.items() if not k.startswith("_") and v is not None}
            out["_label"] = value["_LABEL"]
            return out
        return {k: plain_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain_value(v) for v in value]
    return value
