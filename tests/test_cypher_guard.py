"""The read-only guard lexes Cypher: attacks that slipped past the old regex are refused, names are not."""

from __future__ import annotations

import pytest
from graph_cases import GUARD_ATTACKS as ATTACKS
from graph_cases import GUARD_READS as READS

from kgbuild.graph.cypher_guard import read_only_violation, tokens


@pytest.mark.parametrize("cypher", ATTACKS)
def test_attacks_are_refused(cypher: str) -> None:
    assert read_only_violation(cypher) is not None


@pytest.mark.parametrize("cypher", READS)
def test_read_queries_pass(cypher: str) -> None:
    assert read_only_violation(cypher) is None


def test_a_number_and_a_keyword_are_two_tokens() -> None:
    assert [t.text for t in tokens("x = 1LOAD")] == ["x", "=", "1", "LOAD"]
    assert [t.kind for t in tokens("'a;b' `c d` $p 2.5e3")] == ["string", "name", "parameter", "number"]
