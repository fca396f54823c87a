"""A stored graph as the CSV files ``neo4j-admin database import full`` reads: a first load at import speed.

The online writer is the reference: every node, relationship and property here is what it would write for
the same triples (``edge_properties`` over each edge's evidence, its ``Evidence`` nodes from ``record_rows``,
the lexical graph from ``lexical_rows``, ``aliases`` from the alias table), so an imported database and an
online-written one are the same graph,
and a later incremental ``kgbuild ingest --store neo4j`` writes only what changed.

Each file has a header file beside it; strings are quoted (a quote doubled), fields may span lines, and
arrays are joined with a delimiter that no array value holds (a control character, chosen per export and
written into ``import.sh``), so any name survives the round trip.
"""

from __future__ import annotations

import csv
import re
import shlex
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kgbuild.graph.aliases import AliasTable
from kgbuild.graph.evidence_records import COLUMNS, record_rows
from kgbuild.graph.lexical import HAS_SENTENCE, MENTIONED_IN, lexical_rows
from kgbuild.graph.store import EdgeKey, GraphStore, StoreError, edge_properties
from kgbuild.schema import RelationSchema
from kgbuild.types import Evidence

_CONTROL = re.compile("[\x00-\x1f]")
_DELIMITERS = [chr(c) for c in (0x1F, 0x1E, 0x1D, 0x1C, *range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x1C))]


@dataclass(frozen=True)
class ImportFile:
    """One input of the import: ``--nodes=LABEL=header,file`` or ``--relationships=header,file``."""

    option: str  # "nodes" or "relationships"
    label: str  # the node label ("" for relationships: the :TYPE column names each type)
    name: str  # the data file, X.csv; its header is X.header.csv
    header: tuple[str, ...]
    rows: list[tuple[Any, ...]]

    @property
    def header_name(self) -> str:
        return self.name.removesuffix(".csv") + ".header.csv"


@dataclass(frozen=True)
class ImportExport:
    folder: Path
    nodes: int
    relationships: int
    command: list[str]  # the import command: tool, subcommand, database, options, files in order


def export_neo4j_import(store: GraphStore, schema: RelationSchema, folder: Path,
                        database: str = "neo4j") -> ImportExport:
    """Write the node and relationship files, their headers and ``import.sh`` into ``folder`` (created; files
    already there are replaced)."""
    files = import_files(store, schema)
    delimiter = array_delimiter(files)
    folder.mkdir(parents=True, exist_ok=True)
    for item in files:
        _write_csv(folder / item.header_name, [item.header], delimiter)
        _write_csv(folder / item.name, item.rows, delimiter)
    command = import_command(files, delimiter, database)
    script = folder / "import.sh"
    script.write_text(_script(command), encoding="utf-8")
    script.chmod(0o755)
    nodes = sum(len(f.rows) for f in files if f.option == "nodes")
    return ImportExport(folder, nodes, sum(len(f.rows) for f in files) - nodes, command)


def import_files(store: GraphStore, schema: RelationSchema) -> list[ImportFile]:
    """The graph as import inputs, rebuilt from the store's triples the way the online writer builds it."""
    types = schema.relationship_types
    edges: dict[EdgeKey, list[Evidence]] = {}
    for triple in store.iter_triples():
        if triple.label not in types:
            raise StoreError(f"label {triple.label!r} is not in relation schema {schema.name!r}")
        edges.setdefault(EdgeKey(triple.head.key, types[triple.label], triple.tail.key), []).append(triple.evidence)
    ordered = sorted(edges.items(), key=lambda item: (item[0].head_key, item[0].rel_type, item[0].tail_key))
    aliases = store.aliases()
    table = AliasTable(aliases)
    documents = sorted(store.documents().values(), key=lambda d: d.id)
    document_ids = {d.id for d in documents}
    sentences, mentions = lexical_rows(ordered)
    facts, records = [], []
    for key, evidence in ordered:
        props = edge_properties(evidence)
        facts.append((key.head_key, key.tail_key, key.rel_type, props["confidence"], props["model"],
                       props["support"], props["reviewed"], props["doc_ids"], props["sentence_ids"]))
        records += record_rows((key.head_key, key.rel_type, key.tail_key), evidence)
    return [
        ImportFile("nodes", "Entity", "entities.csv", ("key:ID(Entity)", "name", "type", "aliases:string[]"),
                   [(e.key, e.name, e.type, table.names_of(e.key)) for e in store.entities()]),
        ImportFile("nodes", "Document", "documents.csv", ("id:ID(Document)", "path", "hash"),
                   [(d.id, d.path, d.hash) for d in documents]),
        ImportFile("nodes", "Alias", "aliases.csv",
                   ("id:ID(Alias)", "spelling", "type", "canonical", "reason", "score:double", "doc_id",
                    "undone:boolean"),
                   [(a.id, a.spelling, a.type, a.canonical, a.reason, a.score, a.doc_id, a.undone)
                    for a in sorted(aliases, key=lambda a: a.id)]),
        ImportFile("nodes", "Sentence", "sentences.csv",
                   ("id:ID(Sentence)", "doc_id", "position:long", "start_char:long", "text"),
                   [(s["id"], s["doc_id"], s["position"], s["start_char"], s["text"]) for s in sentences]),
        ImportFile("nodes", "Evidence", "evidence.csv",
                   ("id:ID(Evidence)", "head_key", "rel_type", "tail_key", "doc_id", "sentence_id", "confidence:double",
                    "model", "reviewed_by", "record"),
                   [(r["id"], *(r[column] for column in COLUMNS)) for r in records]),
        ImportFile("relationships", "", "facts.csv",
                   (":START_ID(Entity)", ":END_ID(Entity)", ":TYPE", "confidence:double", "model", "support:long",
                    "reviewed:long", "doc_ids:string[]", "sentence_ids:string[]"), facts),
        ImportFile("relationships", "", "has_sentence.csv", (":START_ID(Document)", ":END_ID(Sentence)", ":TYPE"),
                   [(s["doc_id"], s["id"], HAS_SENTENCE) for s in sentences if s["doc_id"] in document_ids]),
        ImportFile("relationships", "", "mentioned_in.csv",
                   (":START_ID(Entity)", ":END_ID(Sentence)", ":TYPE", "text", "start_char:long", "end_char:long",
                    "link"),
                   [(m["key"], m["sentence"], MENTIONED_IN, m["text"], m["start_char"], m["end_char"], m["link"])
                    for m in mentions]),
    ]


def array_delimiter(files: Sequence[ImportFile]) -> str:
    """A control character that no array value holds (the importer splits arrays without any quoting)."""
    arrays = "".join(str(text) for item in files for row in item.rows for value in row
                     if isinstance(value, list | tuple) for text in value)
    used = set(_CONTROL.findall(arrays))
    for candidate in _DELIMITERS:
        if candidate not in used:
            return candidate
    raise StoreError("every control character occurs in some array value; no array delimiter is left")


def import_command(files: Iterable[ImportFile], delimiter: str, database: str) -> list[str]:
    """``neo4j-admin database import full DATABASE`` with every file named, nodes before relationships (the
    database comes first: the file options take several values)."""
    command = ["neo4j-admin", "database", "import", "full", database, f"--array-delimiter={delimiter}",
               "--multiline-fields=true", "--id-type=string", "--strict=true"]
    for item in sorted(files, key=lambda f: f.option != "nodes"):
        label = f"{item.label}=" if item.label else ""
        command.append(f"--{item.option}={label}{item.header_name},{item.name}")
    return command


def _script(command: list[str]) -> str:
    """``import.sh``: run from anywhere (the files are named relative to it); ``NEO4J_ADMIN`` may point at
    the tool, and the first argument replaces the database name. The array delimiter is a control
    character, so the script makes it with ``printf``."""
    parts = ["database", "import", "full", '"${1:-' + command[4] + '}"']
    for part in command[5:]:
        if part.startswith("--array-delimiter="):
            parts.append(f'--array-delimiter="$(printf \'\\{ord(part[-1]):03o}\')"')
        else:
            parts.append(shlex.quote(part))
    return ("#!/bin/sh\n"
            "# A first load into an empty, stopped database: neo4j-admin refuses a database that holds data.\n"
            "# Usage: ./import.sh [DATABASE]   (NEO4J_ADMIN=/path/to/neo4j-admin if it is not on PATH)\n"
            "set -eu\n"
            'cd "$(dirname "$0")"\n'
            f'exec "${{NEO4J_ADMIN:-neo4j-admin}}" {" ".join(parts)}\n')


def _write_csv(path: Path, rows: Iterable[tuple[Any, ...]], delimiter: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n")
            writer.writerows(tuple(_field(value, delimiter) for value in row) for row in rows)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _field(value: Any, delimiter: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return delimiter.join(str(v) for v in value)
    return value if isinstance(value, str) else repr(value)
