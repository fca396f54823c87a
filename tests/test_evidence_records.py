"""Evidence records: folding new records into an edge's summary must give exactly what summarising all of them
gives, since the stores no longer read the stored records back when a document adds to an edge."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kgbuild.graph.evidence_records import Support, aggregate, fold, plan_merge, record_rows
from kgbuild.graph.store import edge_properties
from kgbuild.types import Evidence

FACT = ("ann|PERSON", "WORKS_FOR", "acme|ORG")

evidence_items = st.builds(
    lambda doc, index, confidence, model, reviewed: Evidence(
        doc_id=f"d{doc}", sentence_index=index, sentence=f"Sentence {index}.", head_start=0, head_end=3,
        tail_start=4, tail_end=8, confidence=confidence, model=model, sentence_start=index * 20,
        reviewed_by="ana" if reviewed else ""),
    st.integers(0, 4), st.integers(0, 6), st.sampled_from([0.5, 0.7, 0.9, 0.95]), st.sampled_from(["a", "b", "ab"]),
    st.booleans())


@given(st.lists(evidence_items, min_size=1, max_size=12), st.lists(evidence_items, max_size=12))
def test_folding_new_records_equals_summarising_all(stored: list[Evidence], added: list[Evidence]) -> None:
    fresh = {e for e in added if e not in set(stored)}
    folded = fold(edge_properties(stored), map(Support.of, fresh))
    assert folded == edge_properties([*stored, *added])


@given(st.lists(evidence_items, min_size=1, max_size=12))
def test_a_rerun_plans_nothing_and_a_new_edge_is_created_whole(items: list[Evidence]) -> None:
    rows = record_rows(FACT, items)
    assert len(rows) == len(set(items)) == len({row["id"] for row in rows})
    first = plan_merge({FACT: rows}, set(), {})
    assert first.grown == [] and first.records == rows
    assert first.created == [{"h": FACT[0], "type": FACT[1], "t": FACT[2], **edge_properties(items)}]
    again = plan_merge({FACT: rows}, {row["id"] for row in rows}, {FACT: edge_properties(items)})
    assert (again.created, again.grown, again.records) == ([], [], [])


def test_a_record_id_names_the_fact_and_the_record() -> None:
    item = Evidence("d1", 0, "Ann works for Acme.", 0, 3, 14, 18, 0.9, "m", sentence_start=0)
    [row] = record_rows(FACT, [item])
    [other_fact] = record_rows((FACT[0], "LIVES_IN", FACT[2]), [item])
    assert row["id"] != other_fact["id"] and row["record"] == item.to_json()
    assert aggregate([Support.of(item)])["sentence_ids"] == [row["sentence_id"]] == ["d1:0-19"]
