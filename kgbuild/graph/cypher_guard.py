"""The read-only guard of ``kgbuild query``: Cypher is lexed into tokens, never matched with a regex.

A regex's ``\\b`` sees no boundary in ``1LOAD``, yet the database reads a number and a keyword. So the
query is split the way a Cypher lexer splits it (strings, comments, backtick names, numbers, words,
parameters, punctuation), and then:

* it must start with a read clause (``MATCH``, ``OPTIONAL MATCH``, ``WITH``, ``UNWIND``, ``RETURN``);
* no word may be a write, call or load keyword (``CREATE``, ``CALL``, ``LOAD``, ``COPY``, ...), unless
  it is a name: after ``AS``, ``.`` or ``:``, or before ``:`` in a map (``RETURN n.name AS set``);
* no second statement (``;`` other than a trailing one).

Procedures and table functions are only reachable through ``CALL`` or ``LOAD``, so they are refused
too. The database's own read-only mode stays underneath as a second wall.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

READ_STARTS = frozenset({"MATCH", "OPTIONAL", "WITH", "UNWIND", "RETURN"})
REFUSED = frozenset({
    "CREATE", "MERGE", "DELETE", "DETACH", "SET", "REMOVE", "DROP", "ALTER", "RENAME", "COPY", "LOAD",
    "CALL", "INSTALL", "IMPORT", "EXPORT", "ATTACH", "USE", "FOREACH", "BEGIN", "COMMIT",
    "ROLLBACK", "CHECKPOINT", "GRANT", "DENY", "REVOKE", "SHOW", "TERMINATE", "START", "STOP", "ENABLE",
    "DISABLE", "FINISH", "INSERT", "PROJECT", "USING", "PERIODIC",
})

_TOKEN = re.compile(
    r"""(?P<space>\s+)
      | (?P<comment>//[^\n]*|/\*.*?(?:\*/|\Z))
      | (?P<string>'(?:[^'\\]|\\.)*(?:'|\Z)|"(?:[^"\\]|\\.)*(?:"|\Z))
      | (?P<name>`(?:[^`]|``)*(?:`|\Z))
      | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<parameter>\$(?:[^\W\d]\w*|\d+|`(?:[^`]|``)*`))
      | (?P<word>[^\W\d]\w*)
      | (?P<symbol>.)""",
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokens(cypher: str) -> list[Token]:
    """Every token but white space and comments, in order."""
    out = []
    for match in _TOKEN.finditer(cypher):
        kind = match.lastgroup or "symbol"
        if kind not in ("space", "comment"):
            out.append(Token(kind, match.group()))
    return out


def read_only_violation(cypher: str) -> str | None:
    """Why ``cypher`` may not run read-only, or None when it is a plain read query."""
    found = tokens(cypher)
    while found and found[-1].text == ";":
        found.pop()
    if not found:
        return "the query is empty"
    first = found[0]
    if first.kind != "word" or first.text.upper() not in READ_STARTS:
        return f"it starts with {first.text!r}, not with MATCH, OPTIONAL MATCH, WITH, UNWIND or RETURN"
    for index, token in enumerate(found):
        if token.text == ";":
            return "it holds more than one statement"
        if token.kind != "word" or token.text.upper() not in REFUSED:
            continue
        before = found[index - 1].text.upper() if index else ""
        after = found[index + 1].text if index + 1 < len(found) else ""
        if before in ("AS", ".", ":") or after == ":":
            continue  # a name (alias, property, label or map key), not a clause
        return f"it uses {token.text.upper()}"
    return None
