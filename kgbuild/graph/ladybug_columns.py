"""Column titles of LadybugDB results as a user wrote them.

LadybugDB names an unaliased column by its rewritten expression: ``label(r)`` comes back as
``LABEL(r._ID,[,,,WORKS_FOR,,LIVES_IN,...])`` and ``count(*)`` as ``COUNT_STAR()``. Neo4j names it by the
text as written. Only the title changes; the rows are the database's.
"""

from __future__ import annotations

import re

_COUNT_STAR = re.compile(r"\bCOUNT_STAR\(\)")
_INTERNAL_ID = re.compile(r"\b([A-Z][A-Z_]*)\((\w+)\._ID(?:,\[[^\]]*\])?\)")  # LABEL(r._ID,[...]), ID(n._ID)
_FUNCTION = re.compile(r"\b([A-Z][A-Z0-9_]*)(?=\()")


def column_title(name: str) -> str:
    """``LABEL(r._ID,[...])`` → ``label(r)``, ``COUNT_STAR()`` → ``count(*)``, ``LOWER(a.name)`` →
    ``lower(a.name)``; a name LadybugDB kept as written (``a.name``, an alias) is returned unchanged."""
    title = _COUNT_STAR.sub("count(*)", name)
    title = _INTERNAL_ID.sub(lambda m: f"{m.group(1).lower()}({m.group(2)})", title)
    return _FUNCTION.sub(lambda m: m.group(1).lower(), title)
