"""The first wall of ``kgbuild query`` without ``--write``: a guard that is stricter than any Cypher parser.

A guard that lexes the way it *thinks* the database lexes is a second parser that has to agree with the
first, and an audit found where they did not (LadybugDB keeps ``/***/`` open where a regex closed it).
So this guard never guesses. It accepts only a narrow, unambiguous subset of Cypher and refuses the rest:

* **No grey zones in the text.** No comments in any form (``//``, ``/*``, ``*/``), no carriage returns or
  other control characters, no non-ASCII outside string literals and backtick names, no backslash
  escapes, no doubled backticks. What remains lexes one way only, whatever the parser.
* **Bounded.** At most :data:`MAX_QUERY_CHARS` characters and :data:`MAX_NESTING` levels of brackets,
  checked before anything parses it (deep nesting crashed the database's parser; long chains ran
  for minutes).
* **An allow-list, not a deny-list, for what runs.** One statement that starts with a read clause;
  every function called is on :data:`FUNCTIONS` (never a dotted procedure-style name); every clause
  keyword that could write, call, load, copy, export, install, attach or checkpoint is refused
  wherever it stands, even where the database might have read it as a name (backtick such a name).

The databases then decide for themselves (``graph/embedded.py``, ``graph/neo4j_store.py``): their own
parser must see exactly one statement, their planner must produce only read operators, and the
statement runs in their read-only mode under a time limit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from kgbuild.errors import ReadOnlyQueryError, StoreError

MAX_QUERY_CHARS = 10_000
MAX_NESTING = 32

READ_STARTS = frozenset({"MATCH", "OPTIONAL", "WITH", "UNWIND", "RETURN"})
READ_KEYWORDS = READ_STARTS | frozenset({
    "WHERE", "DISTINCT", "AS", "ORDER", "BY", "ASC", "ASCENDING", "DESC", "DESCENDING", "SKIP", "LIMIT",
    "UNION", "ALL", "AND", "OR", "XOR", "NOT", "IN", "IS", "NULL", "TRUE", "FALSE", "CASE", "WHEN",
    "THEN", "ELSE", "END", "STARTS", "ENDS", "CONTAINS", "EXISTS", "ANY", "NONE", "SINGLE", "SHORTEST",
})
# Clause keywords of LadybugDB (Kùzu) and Neo4j that do anything but read the graph, and words that only
# follow them (FROM of LOAD/COPY, YIELD of CALL). Refused even where a parser could read them as names.
REFUSED_KEYWORDS = frozenset({
    "CREATE", "MERGE", "DELETE", "DETACH", "SET", "REMOVE", "DROP", "ALTER", "RENAME", "COPY", "LOAD",
    "CALL", "YIELD", "FROM", "INSTALL", "UNINSTALL", "IMPORT", "EXPORT", "ATTACH", "USE", "FOREACH", "BEGIN",
    "COMMIT", "ROLLBACK", "CHECKPOINT", "TRANSACTION", "TRANSACTIONS", "GRANT", "DENY", "REVOKE", "SHOW",
    "TERMINATE", "START", "STOP", "ENABLE", "DISABLE", "FINISH", "INSERT", "UPDATE", "PROJECT", "USING",
    "PERIODIC", "EXPLAIN", "PROFILE", "DATABASE", "EXTENSION", "MACRO", "SEQUENCE", "COMMENT", "PRAGMA",
})
# Functions a read query may call: pure functions of their arguments and aggregates. Nothing here can
# reach a file, the network, a setting or a procedure.
FUNCTIONS = frozenset({
    # aggregates
    "count", "collect", "sum", "avg", "min", "max", "stdev", "stdevp", "percentilecont", "percentiledisc",
    # graph elements
    "id", "elementid", "label", "labels", "type", "keys", "properties", "nodes", "relationships", "rels",
    "startnode", "endnode", "length", "offset",
    # lists and predicates
    "size", "head", "last", "tail", "range", "reverse", "coalesce", "exists", "any", "all", "none", "single",
    "list_contains", "list_has", "list_concat", "list_extract", "list_element", "list_slice", "list_sort",
    "list_reverse_sort", "list_distinct", "list_unique", "list_position", "list_sum", "list_product",
    "array_contains", "array_has", "array_slice", "len",
    # strings
    "tolower", "toupper", "lower", "upper", "lcase", "ucase", "trim", "ltrim", "rtrim", "substring", "substr",
    "left", "right", "replace", "split", "string_split", "concat", "contains", "starts_with", "ends_with",
    "prefix", "suffix", "lpad", "rpad", "repeat", "regexp_matches", "regexp_replace", "regexp_extract",
    "levenshtein", "initcap",
    # conversion and arithmetic
    "tostring", "tointeger", "tofloat", "toboolean", "tostringornull", "tointegerornull", "tofloatornull",
    "to_string", "to_int64", "to_int32", "to_double", "to_float", "cast", "abs", "ceil", "ceiling", "floor",
    "round", "sqrt", "sign", "exp", "log", "log10", "log2", "ln", "pow", "greatest", "least", "nullif",
    "date", "timestamp", "datetime", "duration", "interval", "date_part", "datepart",
})


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    start: int


_TOKEN = re.compile(
    r"""(?P<space>[ \t\n]+)
      | (?P<string>'[^'\\\x00-\x08\x0a-\x1f\x7f]*'|"[^"\\\x00-\x08\x0a-\x1f\x7f]*")
      | (?P<name>`[^`\x00-\x08\x0a-\x1f\x7f]+`)
      | (?P<parameter>\$[A-Za-z_][A-Za-z0-9_]*)
      | (?P<number>[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
      | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<symbol>[()\[\]{}<>=+\-*%^,.:;|!?&~/])""",
    re.VERBOSE,
)
_COMMENT_MARKS = ("//", "/*", "*/")
_OPENERS, _CLOSERS = "([{", ")]}"
_QUOTED = ("string", "name")


class GuardRefusal(ValueError):
    """Why a query may not run read-only (an internal signal; the store turns it into a user error)."""


def tokens(cypher: str) -> list[Token]:
    """Every token but white space, in order; raises :class:`GuardRefusal` at the first character that
    falls outside the accepted subset (a comment, a control character, non-ASCII outside a string...)."""
    out: list[Token] = []
    position = 0
    while position < len(cypher):
        match = _TOKEN.match(cypher, position)
        if match is None:
            raise GuardRefusal(_unaccepted(cypher, position))
        kind = match.lastgroup or "symbol"
        if kind != "space":
            out.append(Token(kind, match.group(), position))
        position = match.end()
    for before, after in zip(out, out[1:], strict=False):
        if after.start != before.start + len(before.text):
            continue  # white space between them: no lexer can join the two
        if before.kind == "symbol" == after.kind and before.text + after.text in _COMMENT_MARKS:
            raise GuardRefusal(f"it holds a comment marker {before.text + after.text!r} at character "
                               f"{before.start + 1}; comments are not accepted in a read-only query")
        if before.kind in _QUOTED and after.kind in _QUOTED:
            raise GuardRefusal(f"it holds a doubled quote at character {after.start + 1}, which parsers read "
                               "differently; pass such values with --param")
    return out


def _unaccepted(cypher: str, position: int) -> str:
    char = cypher[position]
    where = f"at character {position + 1}"
    if char in "'\"":
        return (f"the string starting {where} is unterminated or holds a backslash, line break or control "
                "character; pass such values with --param")
    if char == "`":
        return f"the backtick name starting {where} is empty, unterminated or holds a doubled backtick"
    if char == "$":
        return f"the parameter {where} is not a plain name ($name)"
    return f"it holds {char!r} {where}, outside a string; only ASCII letters, digits, spaces, tabs, " \
           "newlines and Cypher punctuation are accepted there"


def check_bounds(cypher: str) -> None:
    """Length and bracket depth, counted before any parser runs (brackets inside strings count too,
    which only ever refuses more)."""
    if len(cypher) > MAX_QUERY_CHARS:
        raise GuardRefusal(f"it is {len(cypher):,} characters long; the limit is {MAX_QUERY_CHARS:,}")
    deepest = bracket_depth(cypher)
    if deepest > MAX_NESTING:
        raise GuardRefusal(f"it nests brackets {deepest} deep; the limit is {MAX_NESTING}")


def bracket_depth(text: str) -> int:
    """How deep ``( [ {`` nest anywhere in ``text``, strings included; linear and recursion-free."""
    depth = deepest = 0
    for char in text:
        if char in _OPENERS:
            depth += 1
            deepest = max(deepest, depth)
        elif char in _CLOSERS:
            depth -= 1
    return deepest


def read_only_violation(cypher: str) -> str | None:
    """Why ``cypher`` may not run read-only, or None when it is inside the accepted read subset."""
    try:
        check_bounds(cypher)
        _check_tokens(tokens(cypher))
    except GuardRefusal as refusal:
        return str(refusal)
    return None


def _check_tokens(found: list[Token]) -> None:
    while found and found[-1].text == ";":
        found.pop()
    if not found:
        raise GuardRefusal("the query is empty")
    first = found[0]
    if first.kind != "word" or first.text.upper() not in READ_STARTS:
        raise GuardRefusal(f"it starts with {first.text!r}, not with MATCH, OPTIONAL MATCH, WITH, UNWIND or "
                           "RETURN")
    for index, token in enumerate(found):
        if token.text == ";":
            raise GuardRefusal("it holds more than one statement")
        if token.kind != "word":
            continue
        before = found[index - 1] if index else None
        after = found[index + 1] if index + 1 < len(found) else None
        _check_word(token, before, after)


def _check_word(token: Token, before: Token | None, after: Token | None) -> None:
    word = token.text.upper()
    is_property = before is not None and before.text == "." and before.start + 1 == token.start
    calls = after is not None and after.text == "("
    if calls and word not in READ_KEYWORDS:
        if is_property or token.text.lower() not in FUNCTIONS:
            raise GuardRefusal(f"it calls {token.text!r}, which is not a function a read-only query may use")
        return
    if is_property or word not in REFUSED_KEYWORDS:
        return
    raise GuardRefusal(f"it uses {word} (a name spelled like a keyword must be in backticks)")


def refuse_write_clause(cypher: str) -> None:
    """Raise :class:`ReadOnlyQueryError` unless ``cypher`` is a plain read query (see :mod:`cypher_guard`)."""
    reason = read_only_violation(cypher)
    if reason:
        raise refused(reason)


def refused(reason: str) -> ReadOnlyQueryError:
    """The one wording of a refused read-only query, whichever wall refused it."""
    return ReadOnlyQueryError(f"query refused: {reason}; `kgbuild query` is read-only unless --write is given")


def check_param_depth(params: dict[str, Any]) -> None:
    """Parameters nest at most :data:`MAX_NESTING` deep: a deeper value would exhaust a driver's recursion."""
    pending: list[tuple[Any, int]] = [(params, 0)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_NESTING:
            raise StoreError(f"a query parameter nests more than {MAX_NESTING} levels deep")
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else ()
        pending.extend((child, depth + 1) for child in children)
