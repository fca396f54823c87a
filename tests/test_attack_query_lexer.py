"""Attack class: the guard and the database read a query differently (comments, line endings, look-alikes,
escapes). The guard accepts only a subset that lexes one way, so every disguise in the corpus is refused
before any database parser sees it, and the reads users write still pass."""

from __future__ import annotations

import pytest
from attack_queries import PAYLOADS, WRAPPERS, corpus
from graph_cases import GUARD_ATTACKS, GUARD_READS

from kgbuild.graph.cypher_guard import MAX_NESTING, read_only_violation, tokens

CORPUS = corpus()


def test_the_corpus_is_large_and_covers_every_corner() -> None:
    assert len(CORPUS) >= 100
    assert len({name for name, _ in CORPUS}) == len(CORPUS)
    assert len(WRAPPERS) * len(PAYLOADS) <= len(CORPUS)


@pytest.mark.parametrize(("name", "cypher"), CORPUS, ids=[name for name, _ in CORPUS])
def test_every_attack_is_refused_with_one_line(name: str, cypher: str) -> None:
    reason = read_only_violation(cypher)
    assert reason is not None, name
    assert "\n" not in reason and len(reason) < 300


@pytest.mark.parametrize("cypher", GUARD_ATTACKS)
def test_earlier_attacks_stay_refused(cypher: str) -> None:
    assert read_only_violation(cypher) is not None


@pytest.mark.parametrize("cypher", GUARD_READS)
def test_read_queries_pass(cypher: str) -> None:
    assert read_only_violation(cypher) is None


@pytest.mark.parametrize("cypher", [
    "WITH 1 AS x /***/ RETURN x",  # the audit's opening: a comment, however harmless it looks
    "RETURN 1 // fine",
    "RETURN 1 AS x\r\n",
    "RETURN 'it\\'s' AS x",
    "RETURN 1 AS `a``b`",
    "RETURN 1\u00a0AS x",
    "RETURN 1 AS x\u2028",
    "MATCH (n) RETURN n.name AS nom\u0301",
])
def test_grey_zones_are_refused_even_without_a_payload(cypher: str) -> None:
    assert read_only_violation(cypher) is not None


def test_nesting_is_bounded_before_lexing() -> None:
    at_limit = "RETURN " + "(" * MAX_NESTING + "1" + ")" * MAX_NESTING
    assert read_only_violation(at_limit) is None
    assert "nests" in (read_only_violation("RETURN " + "(" * (MAX_NESTING + 1) + "1" + ")" * (MAX_NESTING + 1)) or "")


def test_a_number_and_a_keyword_are_two_tokens() -> None:
    assert [t.text for t in tokens("x = 1LOAD")] == ["x", "=", "1", "LOAD"]
    assert [t.kind for t in tokens("'a;b' `c d` $p 2.5e3")] == ["string", "name", "parameter", "number"]
