"""Export a stored graph: JSONL (one triple per line, with provenance) or GraphML (networkx)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import networkx as nx

from kgbuild.graph.store import GraphStore, edge_properties
from kgbuild.types import Evidence, Triple


def sorted_triples(store: GraphStore) -> list[Triple]:
    """All triples in a canonical order, so two exports of the same graph are byte-identical."""
    return sorted(store.iter_triples(), key=lambda t: (t.head.key, t.label, t.tail.key, t.evidence.to_json()))


def export_jsonl(store: GraphStore, out: Path) -> int:
    triples = sorted_triples(store)
    tmp = out.with_name(out.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        for triple in triples:
            handle.write(json.dumps(triple.to_json(), ensure_ascii=False, sort_keys=True) + "\n")
    os.replace(tmp, out)
    return len(triples)


def to_networkx(store: GraphStore) -> nx.MultiDiGraph:
    graph = nx.MultiDiGraph()
    edges: dict[tuple[str, str, str], list[Evidence]] = {}
    for triple in sorted_triples(store):
        for entity in (triple.head, triple.tail):
            graph.add_node(entity.key, name=entity.name, type=entity.type)
        edges.setdefault((triple.head.key, triple.label, triple.tail.key), []).append(triple.evidence)
    for (head, label, tail), evidence in edges.items():
        props = edge_properties(evidence)
        graph.add_edge(head, tail, key=label, label=label, confidence=props["confidence"], model=props["model"],
                       support=props["support"], doc_ids=json.dumps(props["doc_ids"]),
                       evidence=json.dumps(props["evidence"], ensure_ascii=False))
    return graph


def export_graphml(store: GraphStore, out: Path) -> int:
    graph = to_networkx(store)
    tmp = out.with_name(out.name + ".tmp")
    nx.write_graphml(graph, tmp)
    os.replace(tmp, out)
    return int(graph.number_of_edges())
