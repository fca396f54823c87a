"""End-to-end evaluation on documents: triple scoring, error attribution, and the gold-file checks."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from kgbuild.cli import app
from kgbuild.config import load_pipeline
from kgbuild.datasets.docs_gold import GoldDocument, entity_name_key, load_gold
from kgbuild.errors import DatasetError
from kgbuild.evaluation.triples import DocumentOutput, score_documents
from kgbuild.schema import RelationSchema
from kgbuild.types import CandidatePair, LabelledPair, Mention, Sentence
from kgbuild.workflows.evaluate_docs import evaluate_documents

REPO = Path(__file__).resolve().parent.parent
SENTENCE = "Ann Smith of Acme Corp, based in Boston, said Smith lives in Boston."


def pair(head: str, head_type: str, tail: str, tail_type: str) -> CandidatePair:
    return CandidatePair(SENTENCE, Mention(head, head_type, 0, len(head)), Mention(tail, tail_type, 0, len(tail)))


def sentence_of(candidates: Sequence[CandidatePair], index: int = 0, text: str = SENTENCE) -> Sentence:
    mentions = {m.text: m for p in candidates for m in (p.head, p.tail)}
    return Sentence("d", index, 0, text, tuple(mentions.values()))


def test_entity_names_match_without_case_or_leading_article() -> None:
    assert entity_name_key("The European  Space Agency") == entity_name_key("european space agency")
    doc = GoldDocument(path="d.txt", entities={"Ann Smith": {"type": "PERSON", "aliases": ["Smith"]}})
    assert doc.canonical("smith") == doc.canonical("Ann Smith") == "ann smith"
    assert doc.canonical("Bob") == "bob"  # a name that is no gold entity keeps its own key


def test_scores_and_blames_each_error_on_its_stage(default_schema: RelationSchema) -> None:
    gold = GoldDocument(path="d.txt", entities={
        "Ann Smith": {"type": "PERSON", "aliases": ["Smith"]}, "Acme Corp": {"type": "ORG"},
        "Boston": {"type": "GPE"}, "1970": {"type": "DATE"}},
        triples=[("Ann Smith", "works_for", "Acme Corp"), ("Acme Corp", "org_based_in", "Boston"),
                 ("Ann Smith", "born_on", "1970")])
    candidates = [pair("Ann Smith", "PERSON", "Acme Corp", "ORG"), pair("Acme Corp", "ORG", "Boston", "GPE"),
                  pair("Smith", "PERSON", "Boston", "GPE"), pair("Boston", "PERSON", "Acme Corp", "ORG")]
    labels = ["works_for", "no_relation", "lives_in", "works_for"]
    labelled = [LabelledPair(p, label, 0.9) for p, label in zip(candidates, labels, strict=True)]
    m = score_documents([DocumentOutput(gold, candidates, labelled, [sentence_of(candidates)])], default_schema)
    assert (m["gold"], m["predicted"], m["true_positives"]) == (3, 3, 1)
    assert m["precision"] == pytest.approx(1 / 3) and m["recall"] == pytest.approx(1 / 3)
    missed = {(e["relation"], e["stage"]) for e in m["missed"]}
    # "1970" was never an entity, so born_on was impossible; org_based_in was a candidate the model refused
    assert missed == {("born_on", "entities"), ("org_based_in", "labelling")}
    assert {e["relation"]: e["lost_at"] for e in m["missed"]} == {"born_on": "entity not found",
                                                                  "org_based_in": "labelled no_relation"}
    assert m["missed_by_stage"]["entity not found"] == 1 and sum(m["missed_by_stage"].values()) == 2
    spurious = {(e["head"], e["relation"], e["stage"]) for e in m["spurious"]}
    # Smith (an alias) in Boston is typed right, so the label is to blame; Boston typed PERSON is spaCy's error
    assert spurious == {("ann smith", "lives_in", "labelling"), ("boston", "works_for", "entities")}
    assert m["errors_by_stage"] == {"entities": 2, "labelling": 2} and m["entity_error_share"] == 0.5
    assert m["per_relation"]["works_for"] == {"precision": 0.5, "recall": 1.0, "f1": pytest.approx(2 / 3),
                                              "support": 1}
    # every edge at 0.9, one right in three: over-confident by 0.9 - 1/3
    assert (m["confident_edges"], m["confident_precision"], m["other_edges"]) == (3, pytest.approx(1 / 3), 0)
    assert m["edge_ece"] == pytest.approx(0.9 - 1 / 3)


def test_a_fact_said_through_a_pronoun_counts_for_the_name_it_refers_to(default_schema: RelationSchema) -> None:
    gold = GoldDocument(path="d.txt", entities={"Ann Smith": {"type": "PERSON"}, "Boston": {"type": "GPE"}},
                        triples=[("Ann Smith", "lives_in", "Boston")])
    she = CandidatePair("She lives in Boston.", Mention("She", "PERSON", 0, 3, refers_to="Ann Smith", link="pronoun"),
                        Mention("Boston", "GPE", 13, 19))
    m = score_documents([DocumentOutput(gold, [she], [LabelledPair(she, "lives_in", 0.7)], [sentence_of([she])])],
                        default_schema)
    assert (m["true_positives"], m["precision"], m["other_edges"]) == (1, 1.0, 1)


def write_gold(folder: Path, documents: list[dict[str, Any]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "gold.yaml").write_text(yaml.safe_dump({"documents": documents}), encoding="utf-8")
    return folder


def test_gold_file_problems_are_clear_errors(tmp_path: Path, default_schema: RelationSchema) -> None:
    (tmp_path / "a.txt").write_text("Ann Smith works for Acme Corp.", encoding="utf-8")
    entities = {"Ann Smith": {"type": "PERSON"}, "Acme Corp": {"type": "ORG"}}
    bad_label = write_gold(tmp_path / "g1", [{"path": "../a.txt", "entities": entities,
                                              "triples": [["Ann Smith", "employs", "Acme Corp"]]}])
    with pytest.raises(DatasetError, match="labels not in schema 'default'"):
        load_gold(bad_label, default_schema)
    unknown_entity = write_gold(tmp_path / "g2", [{"path": "../a.txt", "entities": {},
                                                   "triples": [["Ann Smith", "works_for", "Acme Corp"]]}])
    with pytest.raises(DatasetError, match="not under entities"):
        load_gold(unknown_entity, default_schema)
    missing = write_gold(tmp_path / "g3", [{"path": "../absent.txt", "entities": entities, "triples": []}])
    with pytest.raises(DatasetError, match="document not found"):
        load_gold(missing, default_schema)
    result = CliRunner().invoke(app, ["eval", "-p", str(REPO / "pipelines" / "default.yaml"), "--dataset", "docs",
                                      "--data", str(bad_label)])
    assert result.exit_code == 1 and "labels not in schema" in result.output and "Traceback" not in result.output


class TypeRuleExtractor:
    """Stands in for the language model: the first label the schema allows for the pair's types."""

    def __init__(self, schema: RelationSchema) -> None:
        self.schema, self.model_id = schema, "type-rule"

    def label(self, pairs: Sequence[CandidatePair],
              on_batch: Callable[[int], None] | None = None) -> list[LabelledPair]:
        return [LabelledPair(p, (self.schema.allowed_labels(p.head.type, p.tail.type) or ["no_relation"])[0], 1.0)
                for p in pairs]


def test_whole_path_on_documents_writes_a_report(tmp_path: Path, nlp: Any, default_schema: RelationSchema) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text("Ann Smith works for Microsoft in Seattle.", encoding="utf-8")
    gold = write_gold(tmp_path / "gold", [{"path": "../docs/a.txt", "entities": {
        "Ann Smith": {"type": "PERSON"}, "Microsoft": {"type": "ORG"}, "Seattle": {"type": "GPE"}},
        "triples": [["Ann Smith", "works_for", "Microsoft"], ["Microsoft", "org_based_in", "Seattle"]]}])
    report = evaluate_documents(load_pipeline(REPO / "pipelines" / "default.yaml"), gold, tmp_path / "out",
                                extractor=TypeRuleExtractor(default_schema), nlp=nlp)  # type: ignore[arg-type]
    m = report.metrics
    assert m["documents"] == 1 and m["gold"] == 2 and m["true_positives"] == 2
    assert m["spurious"] and all(e["stage"] == "labelling" for e in m["spurious"])  # Ann Smith lives_in Seattle
    assert "docs triple F1" in report.headline
    assert "## Spurious" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")


def test_entity_merges_on_the_gold_file_meet_the_precision_goal(tmp_path: Path) -> None:
    """`kgbuild eval --dataset aliases` on examples/eval with the default pipeline: spaCy, the within-document
    rules and the cross-document merger at the default threshold (the issue's goal: precision >= 0.95)."""
    pipeline = REPO / "pipelines" / "default.yaml"
    result = CliRunner().invoke(app, ["eval", "--pipeline", str(pipeline), "--dataset", "aliases",
                                      "--data", str(REPO / "examples" / "eval"), "--out", str(tmp_path)],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    metrics = json.loads((tmp_path / "aliases.json").read_text(encoding="utf-8"))
    assert metrics["precision"] >= 0.95 and metrics["true_merges"] >= 15, metrics
    assert result.output.strip().splitlines()[-1].startswith("entity merges: precision")
