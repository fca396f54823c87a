"""How names compare: one entity key per name and type, whatever the case, spacing or leading article.

Re-exported by :mod:`kgbuild.types`, the records built on these keys.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata


def normalise_name(name: str) -> str:
    """Case-, width- and whitespace-insensitive form used to merge entity mentions."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return re.sub(r"\s+", " ", folded).strip()


MAX_KEY_NAME = 256
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+(?=\S)", re.IGNORECASE)


def strip_article(name: str) -> str:
    """"The European Space Agency" → "European Space Agency": a leading article never tells entities apart."""
    return _LEADING_ARTICLE.sub("", name.strip(), count=1)


def name_key(name: str) -> str:
    """Case-insensitive, without a leading article: "The European Space Agency" = "european space agency"."""
    return _LEADING_ARTICLE.sub("", normalise_name(name), count=1)


def entity_key(name: str, type_: str) -> str:
    """``name_key|type``; very long names keep a prefix plus a hash so keys stay indexable (Neo4j cannot
    index property values over ~8 kB, and a uniqueness constraint needs one).
    """
    normalised = name_key(name)
    if len(normalised) > MAX_KEY_NAME:
        digest = hashlib.sha256(normalised.encode("utf-8")).hexdigest()[:24]
        normalised = f"{normalised[:MAX_KEY_NAME]}#{digest}"
    return f"{normalised}|{type_}"
