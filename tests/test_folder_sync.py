"""The graph reflects the folder as of the last run: every file transition, on both stores.

A rule-based stand-in for the language model labels PERSON → ORG pairs as works_for, so these tests
exercise the bookkeeping (spaCy still finds the entities) and count what would have been relabelled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from kgbuild.config import load_pipeline
from kgbuild.graph.store import GraphStore
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair, LabelledPair
from kgbuild.workflows.ingest import Ingestor, IngestSummary

REPO = Path(__file__).resolve().parent.parent
TEXTS = {
    "a.txt": "Ann Smith works for Acme Corporation in Boston.",
    "b.txt": "Bob Jones is employed by Microsoft in Seattle.",
    "c.txt": "Carla Weber joined Initech Corporation last year.",
}


class RuleExtractor:
    def __init__(self, schema: RelationSchema) -> None:
        self.schema, self.model_id, self.labelled = schema, "rule", 0

    def label(self, pairs: Sequence[CandidatePair],
              on_batch: Callable[[int], None] | None = None) -> list[LabelledPair]:
        self.labelled += len(pairs)
        works = ("PERSON", "ORG")
        return [LabelledPair(p, "works_for" if (p.head.type, p.tail.type) == works else self.schema.no_relation, 0.9)
                for p in pairs]


@pytest.fixture
def store(both_stores: GraphStore) -> GraphStore:
    return both_stores


@pytest.fixture
def run(store: GraphStore, nlp: Any, default_schema: RelationSchema) -> Callable[..., tuple[IngestSummary, int]]:
    extractor = RuleExtractor(default_schema)
    ingestor = Ingestor(load_pipeline(REPO / "pipelines" / "default.yaml"), extractor=extractor,  # type: ignore[arg-type]
                        nlp=nlp)

    def once(folder: Path, **options: Any) -> tuple[IngestSummary, int]:
        before = extractor.labelled
        return ingestor.ingest(folder, store, **options), extractor.labelled - before

    return once


def employers(store: GraphStore) -> set[tuple[str, str]]:
    return {(t.head.name, t.tail.name) for t in store.iter_triples()}


def paths(store: GraphStore) -> set[str]:
    return {Path(p).name for p in store.documents()}


def test_every_transition(run: Callable[..., tuple[IngestSummary, int]], store: GraphStore, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in TEXTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    new, labelled = run(folder)
    assert new.read == 3 and labelled > 0 and paths(store) == {"a.txt", "b.txt", "c.txt"}
    assert ("Ann Smith", "Acme Corporation") in employers(store)

    unchanged, labelled = run(folder)
    assert unchanged.unchanged == 3 and unchanged.read == 0 and labelled == 0

    (folder / "a.txt").write_text("Ann Smith works for Umbrella Corporation in Boston.", encoding="utf-8")
    changed, labelled = run(folder)
    assert changed.replaced == 1 and changed.unchanged == 2 and labelled > 0
    assert ("Ann Smith", "Umbrella Corporation") in employers(store)
    assert ("Ann Smith", "Acme Corporation") not in employers(store)

    (folder / "b.txt").rename(folder / "b-renamed.txt")
    renamed, labelled = run(folder)
    assert renamed.renamed == 1 and labelled == 0 and renamed.removed == 0
    assert paths(store) == {"a.txt", "b-renamed.txt", "c.txt"}
    assert ("Bob Jones", "Microsoft") in employers(store)

    (folder / "a.txt").write_text(TEXTS["c.txt"], encoding="utf-8")  # now a copy of c.txt
    duplicated, labelled = run(folder)
    assert duplicated.duplicates == 1 and labelled == 0 and duplicated.removed == 1
    assert [p.reason for p in duplicated.skipped] == [f"same content as {(folder / 'c.txt').resolve()}"]
    assert paths(store) == {"b-renamed.txt", "c.txt"}  # c.txt keeps its content; a.txt's old evidence is gone
    assert not {e for e in employers(store) if e[0] == "Ann Smith"}

    (folder / "c.txt").unlink()
    (folder / "a.txt").unlink()
    kept, _ = run(folder, keep_missing=True)
    assert kept.removed == 0 and ("Carla Weber", "Initech Corporation") in employers(store)
    deleted, labelled = run(folder)
    assert deleted.removed == 1 and labelled == 0 and paths(store) == {"b-renamed.txt"}
    assert employers(store) == {("Bob Jones", "Microsoft")}


def test_a_file_that_becomes_unreadable_keeps_its_last_good_evidence(
        run: Callable[..., tuple[IngestSummary, int]], store: GraphStore, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXTS["a.txt"], encoding="utf-8")
    run(folder)
    before = employers(store)
    (folder / "a.txt").write_bytes(b"\x00\x01 binary now")
    summary, _ = run(folder)
    assert len(summary.failed) == 1 and "binary" in summary.failed[0].reason and summary.removed == 0
    assert employers(store) == before and paths(store) == {"a.txt"}


def test_swapped_contents_move_documents_without_relabelling(
        run: Callable[..., tuple[IngestSummary, int]], store: GraphStore, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(TEXTS["a.txt"], encoding="utf-8")
    (folder / "b.txt").write_text(TEXTS["b.txt"], encoding="utf-8")
    run(folder)
    before = employers(store)
    (folder / "a.txt").write_text(TEXTS["b.txt"], encoding="utf-8")
    (folder / "b.txt").write_text(TEXTS["a.txt"], encoding="utf-8")
    swapped, labelled = run(folder)
    assert swapped.renamed == 2 and labelled == 0 and swapped.removed == 0 and employers(store) == before
