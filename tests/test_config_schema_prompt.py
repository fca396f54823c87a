"""Configuration, relation schemas and prompts: validated up front, one source of truth."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgbuild.config import ConfigError, load_pipeline
from kgbuild.relations.prompt import PromptBuilder, PromptTemplate
from kgbuild.schema import RelationSchema, relationship_type
from kgbuild.types import CandidatePair, Mention

REPO = Path(__file__).resolve().parent.parent


def test_every_shipped_pipeline_validates() -> None:
    files = sorted((REPO / "pipelines").glob("*.yaml"))
    assert any(f.name == "default.yaml" for f in files)
    for file in files:
        config = load_pipeline(file)
        assert config.source == str(file.resolve())
        config.load_schema()


def test_bad_config_names_file_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nretriever:\n  k: -1\n  encoderr: x\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_pipeline(bad)
    message = str(info.value)
    assert str(bad) in message and "retriever.k" in message and "retriever.encoderr" in message
    (tmp_path / "v.yaml").write_text("version: 99\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unsupported pipeline version 99"):
        load_pipeline(tmp_path / "v.yaml")
    (tmp_path / "list.yaml").write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_pipeline(tmp_path / "list.yaml")
    with pytest.raises(ConfigError, match="not found"):
        load_pipeline(tmp_path / "absent.yaml")


def test_relative_paths_resolve_against_the_pipeline_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    file = tmp_path / "sub" / "p.yaml"
    file.write_text("version: 1\ngenerator:\n  adapter: ../models/a\n", encoding="utf-8")
    config = load_pipeline(file)
    assert config.resolve_path("../models/a") == (tmp_path / "models" / "a")


def test_bundled_schemas() -> None:
    default = RelationSchema.bundled("default")
    assert default.all_labels[-1] == "no_relation"
    assert default.allowed_labels("PERSON", "ORG") == ["works_for"]
    assert not default.allows("DATE", "PERSON")
    semeval = RelationSchema.bundled("semeval")
    assert len(semeval.all_labels) == 19 and semeval.no_relation == "Other"
    assert semeval.allows("ANYTHING", "ELSE")


def test_relationship_types_are_sanitised_identifiers() -> None:
    assert relationship_type("per:employee_of") == "PER_EMPLOYEE_OF"
    assert relationship_type("Cause-Effect(e1,e2)") == "CAUSE_EFFECT_E1_E2"
    assert relationship_type("1st place") == "REL_1ST_PLACE"
    assert relationship_type("x`) DETACH DELETE n //") == "X_DETACH_DELETE_N"


def test_schema_rejects_colliding_and_reserved_labels() -> None:
    with pytest.raises(ValueError, match="same relationship type"):
        RelationSchema.model_validate({"name": "x", "labels": {"a-b": {"description": "."},
                                                               "a_b": {"description": "."}}})
    with pytest.raises(ValueError, match="implicit"):
        RelationSchema.model_validate({"name": "x", "labels": {"no_relation": {"description": "."}}})


def test_prompt_has_the_papers_parts_and_shows_example_pairs(default_schema: RelationSchema) -> None:
    builder = PromptBuilder(PromptTemplate.load(), default_schema)
    example = CandidatePair("Ann works for Acme.", Mention("Ann", "PERSON", 0, 3), Mention("Acme", "ORG", 14, 18),
                            label="works_for")
    query = CandidatePair("Bob joined Initech.", Mention("Bob", "PERSON", 0, 3), Mention("Initech", "ORG", 11, 18))
    static, dynamic = builder.static, builder.query(query, [example])
    assert "Problem definition" in static and "Output format" in static
    for label in default_schema.all_labels:
        assert f"- {label}:" in static
    assert "Example sentence: Ann works for Acme." in dynamic and "Relation: works_for" in dynamic
    assert dynamic.index("Example sentence") < dynamic.index("Query sentence: Bob joined Initech.")
    assert dynamic.endswith("Relation:")
    assert builder.full(query, [example]) == static + dynamic


def test_prompt_template_errors(tmp_path: Path) -> None:
    bad = tmp_path / "t.yaml"
    bad.write_text("static: only\n", encoding="utf-8")
    with pytest.raises(ValueError, match="needs 'static', 'example' and 'query'"):
        PromptTemplate.load(bad)
    with pytest.raises(ValueError, match="not found"):
        PromptTemplate.load(tmp_path / "absent.yaml")


def test_executor_flags_override_the_pipeline_and_bad_values_are_one_line_errors() -> None:
    config = load_pipeline(None)
    assert config.executor.kind == "local"  # the default path stays in-process
    ray = config.with_overrides(executor="ray", ray_address="auto", workers=4).executor
    assert (ray.kind, ray.ray_address, ray.workers) == ("ray", "auto", 4)
    with pytest.raises(ConfigError, match="--executor must be 'local' or 'ray'"):
        config.with_overrides(executor="dask")
    with pytest.raises(ConfigError, match="--workers must be at least 1"):
        config.with_overrides(workers=0)


def test_correction_bank_sits_beside_the_pipeline_and_evaluations_leave_it_out(tmp_path: Path) -> None:
    from kgbuild.config import load_pipeline

    pipeline = tmp_path / "mine.yaml"
    pipeline.write_text("version: 1\nname: mine\n", encoding="utf-8")
    config = load_pipeline(pipeline)
    assert config.corrections_path() == tmp_path / "mine.corrections.jsonl"
    assert config.without_corrections().corrections_path() is None


def test_a_shipped_pipeline_keeps_its_corrections_in_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never beside kgbuild's own files: with a non-editable install they sit in site-packages."""
    from kgbuild.config import load_pipeline

    monkeypatch.chdir(tmp_path)
    shipped = [load_pipeline(), load_pipeline(REPO / "kgbuild" / "resources" / "models" / "default-rag-lora"
                                              / "pipeline.yaml")]
    for config in shipped:
        assert config.is_shipped()
        assert config.corrections_path() == tmp_path / f"{config.name}.corrections.jsonl"
