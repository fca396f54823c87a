"""LadybugDB's declared tables: the graph model of :mod:`kgbuild.graph.store` as DDL, every statement
idempotent, with the columns that graphs written by earlier versions lack added in place."""

from __future__ import annotations

from collections.abc import Iterable

NODE_TABLES = (
    "CREATE NODE TABLE IF NOT EXISTS Document(id STRING PRIMARY KEY, path STRING, hash STRING)",
    "CREATE NODE TABLE IF NOT EXISTS Entity(key STRING PRIMARY KEY, name STRING, type STRING, aliases STRING[])",
    "ALTER TABLE Entity ADD IF NOT EXISTS aliases STRING[] DEFAULT []",  # graphs from before entity resolution
    "CREATE NODE TABLE IF NOT EXISTS Alias(id STRING PRIMARY KEY, spelling STRING, type STRING, canonical STRING, "
    "reason STRING, score DOUBLE, doc_id STRING, undone BOOLEAN)",
    "CREATE NODE TABLE IF NOT EXISTS Sentence(id STRING PRIMARY KEY, doc_id STRING, position INT64, start_char INT64, "
    "text STRING)",
    "CREATE NODE TABLE IF NOT EXISTS Evidence(id STRING PRIMARY KEY, head_key STRING, rel_type STRING, "
    "tail_key STRING, doc_id STRING, sentence_id STRING, confidence DOUBLE, model STRING, reviewed_by STRING, "
    "record STRING)",
    "CREATE REL TABLE IF NOT EXISTS HAS_SENTENCE(FROM Document TO Sentence)",
    "CREATE REL TABLE IF NOT EXISTS MENTIONED_IN(FROM Entity TO Sentence, text STRING, start_char INT64, "
    "end_char INT64, link STRING)",
)
REL_COLUMNS = ("confidence DOUBLE, model STRING, support INT64, reviewed INT64, doc_ids STRING[], "
               "sentence_ids STRING[]")
ADDED_COLUMNS = ("sentence_ids STRING[] DEFAULT []", "reviewed INT64 DEFAULT 0")  # to tables of earlier versions


def quoted(name: str) -> str:
    """A table name as a Cypher identifier: in backticks, inner backticks doubled."""
    return "`" + name.replace("`", "``") + "`"


def table_statements(rel_types: Iterable[str]) -> list[str]:
    """The node tables, then one relationship table per fact type (newer columns added to older ones)."""
    statements = list(NODE_TABLES)
    for rel_type in rel_types:
        statements.append(f"CREATE REL TABLE IF NOT EXISTS {quoted(rel_type)}(FROM Entity TO Entity, {REL_COLUMNS})")
        statements += [f"ALTER TABLE {quoted(rel_type)} ADD IF NOT EXISTS {column}" for column in ADDED_COLUMNS]
    return statements
