"""The read-only attack corpus: payloads that must never run under `kgbuild query`, each hidden behind the
grammar's tricky corners (comments in every form, line endings, Unicode look-alikes and spaces, string
escapes, backticks, parameters, several statements, a number glued to a keyword, deep nesting).

``{out}`` in a payload is a folder the test watches: nothing may appear in it.
"""

from __future__ import annotations

# What an attacker wants to run. Each entry: (name, payload).
PAYLOADS = [
    ("read-host-file", "LOAD FROM '/etc/passwd' (file_format='csv', header=false, delim=':') RETURN column0"),
    ("write-file", "COPY (MATCH (n) RETURN n.name) TO '{out}/copied.csv'"),
    ("export", "EXPORT DATABASE '{out}/exported'"),
    ("import", "IMPORT DATABASE '{out}/exported'"),
    ("native-library", "LOAD EXTENSION '{out}/evil.so'"),
    ("download", "INSTALL json FROM 'http://127.0.0.1:9/'"),
    ("setting", "CALL current_setting('home_directory') RETURN *"),
    ("table-function", "CALL READ_CSV_SERIAL('/etc/hostname') RETURN *"),
    ("checkpoint", "CHECKPOINT"),
    ("attach", "ATTACH '{out}/other.lbug' AS other (dbtype lbug)"),
    ("delete", "MATCH (n) DETACH DELETE n"),
    ("load-csv", "LOAD CSV FROM 'file:///etc/passwd' AS line RETURN line"),
    ("procedure", "CALL dbms.components() YIELD name RETURN name"),
    ("apoc", "CALL apoc.load.json('file:///etc/passwd') YIELD value RETURN value"),
    ("transaction", "BEGIN TRANSACTION"),
]

# How an attacker hides a payload behind something the guard might take for a harmless read.
WRAPPERS = [
    ("bare", "{p}"),
    ("block-comment-open", "WITH 1 AS x /***/ // */ {p}"),
    ("block-comment-nested", "WITH 1 AS x /* /* */ {p} */ RETURN x"),
    ("line-comment-cr", "RETURN 1 AS x // \r {p}"),
    ("line-comment-unicode-separator", "RETURN 1 AS x // \u2028 {p}"),
    ("line-comment-nel", "RETURN 1 AS x // \u0085 {p}"),
    ("second-statement", "MATCH (n) RETURN n; {p}"),
    ("second-statement-newline", "MATCH (n) RETURN n;\n{p}"),
    ("backslash-quote", "RETURN '\\'' AS x; {p}"),
    ("backslash-double-quote", 'RETURN "\\"" AS x; {p}'),
    ("doubled-quote", "RETURN 'a'' AS x; {p} //'"),
    ("doubled-backtick", "RETURN 1 AS `a``; {p} //`"),
    ("unterminated-string", "RETURN 'x; {p}"),
    ("no-break-space", "RETURN 1 AS x\u00a0;\u00a0{p}"),
    ("fullwidth-semicolon", "RETURN 1 AS x\uff1b {p}"),
    ("vertical-tab", "RETURN 1 AS x ;\x0b{p}"),
    ("nul", "RETURN 1 AS x ;\x00{p}"),
    ("number-glued", "WITH 1 AS x WHERE x = 1{p}"),
    ("parameter-backtick", "RETURN $`x` ; {p}"),
    ("unicode-letter-lookalike", "RETURN 1 AS x ; \u0421{p}"),  # Cyrillic Es before the payload
]


def corpus(out: str = "/tmp/kgbuild-attack-out") -> list[tuple[str, str]]:
    """Every payload behind every wrapper, plus the resource attacks; ids as ``wrapper/payload``."""
    cases = [(f"{w}/{name}", wrapper.replace("{p}", payload.replace("{out}", out)))
             for name, payload in PAYLOADS for w, wrapper in WRAPPERS]
    cases += [
        ("deep-parentheses", "RETURN " + "(" * 5000 + "1" + ")" * 5000),
        ("deep-lists", "RETURN " + "[" * 5000 + "]" * 5000),
        ("long-plus-chain", "RETURN " + "+".join(["1"] * 20_000)),
        ("keyword-as-label", "MATCH (n:LOAD) RETURN n"),
        ("keyword-as-map-key", "RETURN {load: 1} AS m"),
        ("dotted-function", "RETURN apoc.text.join(['a'], ',') AS x"),
        ("unlisted-function", "RETURN current_setting('home_directory') AS x"),
        ("explain", "EXPLAIN MATCH (n) RETURN n"),
        ("profile", "PROFILE MATCH (n) RETURN n"),
        ("use-database", "USE system MATCH (n) RETURN n"),
        ("show", "SHOW DATABASES"),
        ("empty", ""),
        ("only-a-comment", "   // only a comment"),
        ("subquery-write", "MATCH (n) CALL { WITH n SET n.x = 1 } RETURN n"),
        ("foreach-write", "MATCH (n) FOREACH (x IN [1] | CREATE (:X))"),
    ]
    return cases
