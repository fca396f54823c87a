"""Export a stored graph: JSONL (one triple per line, with provenance) or GraphML (networkx).

JSONL keeps every character verbatim. GraphML is XML 1.0, which cannot hold most control characters:
those become U+FFFD there (JSON inside an attribute keeps its own ``\\u`` escapes, so evidence survives).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import networkx as nx

from kgbuild.graph.store import GraphStore, edge_properties
from kgbuild.types import Evidence, Triple

_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def sorted_triples(store: GraphStore) -> list[Triple]:
    """All triples in a canonical order, so two exports of the same graph are byte-identical."""
    return sorted(store.iter_triples(), key=lambda t: (t.head.key, t.label, t.tail.key, t.evidence.to_json()))


@contextmanager
def atomic_output(out: Path) -> Iterator[Path]:
    """A temporary sibling that replaces ``out`` only when writing succeeded, and is removed when it failed."""
    tmp = out.with_name(out.name + ".tmp")
    try:
        yield tmp
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def export_jsonl(store: GraphStore, out: Path) -> int:
    triples = sorted_triples(store)
    with atomic_output(out) as tmp, tmp.open("w", encoding="utf-8") as handle:
        for triple in triples:
            handle.write(json.dumps(triple.to_json(), ensure_ascii=False, sort_keys=True) + "\n")
    return len(triples)


def xml_text(value: str) -> str:
    """``value`` with the code points XML 1.0 cannot hold (most control characters) as U+FFFD."""
    return _XML_ILLEGAL.sub("\ufffd", value)


def to_networkx(store: GraphStore) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    edges: dict[tuple[str, str, str], list[Evidence]] = {}
    for triple in sorted_triples(store):
        for entity in (triple.head, triple.tail):
            graph.add_node(xml_text(entity.key), name=xml_text(entity.name), type=xml_text(entity.type))
        edges.setdefault((triple.head.key, triple.label, triple.tail.key), []).append(triple.evidence)
    for (head, label, tail), evidence in edges.items():
        props = edge_properties(evidence)
        graph.add_edge(xml_text(head), xml_text(tail), key=label, label=label, confidence=props["confidence"],
                       model=xml_text(props["model"]), support=props["support"],
                       doc_ids=xml_text(json.dumps(props["doc_ids"])),
                       evidence=xml_text(json.dumps(sorted({e.to_json() for e in evidence}), ensure_ascii=False)))
    return graph


def export_graphml(store: GraphStore, out: Path) -> int:
    graph = to_networkx(store)
    with atomic_output(out) as tmp:
        nx.write_graphml(graph, tmp)
    return int(graph.number_of_edges())
