"""The graph as one self-contained HTML file (``kgbuild view``): Cytoscape.js inlined, no network needed.

Cytoscape.js 3.34.4 (MIT licence, ``resources/view/cytoscape-LICENSE.txt``) is vendored from the npm
registry as published (``dist/cytoscape.min.js``). Entity names and sentences reach the page only as JSON
inside a ``<script type="application/json">`` element (``<``, ``>`` and ``&`` escaped) and are shown with
``textContent`` or drawn on the canvas, so they stay text; the page's Content-Security-Policy allows no
network request at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from string import Template
from typing import Any

from kgbuild.assets import resources_dir
from kgbuild.graph.store import GraphStore
from kgbuild.types import Triple

CYTOSCAPE = "cytoscape-3.34.4.min.js"
EVIDENCE_SHOWN = 20  # sentences listed per relationship; the rest are counted


@dataclass
class _Edge:
    source: str
    target: str
    label: str
    evidence: list[tuple[Triple, str]]

    @property
    def confidence(self) -> float:
        return max(t.evidence.confidence for t, _ in self.evidence)


def store_facts(store: GraphStore) -> list[tuple[Triple, str]]:
    """Every stored triple (one per supporting sentence) with the path of its document."""
    paths = {record.id: path for path, record in store.documents().items()}
    return [(triple, paths.get(triple.evidence.doc_id, "")) for triple in store.iter_triples()]


def graph_data(facts: Iterable[tuple[Triple, str]], entity: str | None = None,
               limit: int | None = None) -> dict[str, Any]:
    """Nodes and relationships for the page: ``facts`` are stored triples (one per supporting sentence) with
    their document's path. ``entity``: only the relationships touching an entity of that name (any case);
    ``limit``: the most confident relationships."""
    edges: dict[tuple[str, str, str], _Edge] = {}
    names: dict[str, tuple[str, str]] = {}
    wanted = entity.casefold() if entity is not None else None
    for triple, path in facts:
        if wanted is not None and wanted not in (triple.head.name.casefold(), triple.tail.name.casefold()):
            continue
        key = (triple.head.key, triple.label, triple.tail.key)
        names[triple.head.key] = (triple.head.name, triple.head.type)
        names[triple.tail.key] = (triple.tail.name, triple.tail.type)
        edges.setdefault(key, _Edge(triple.head.key, triple.tail.key, triple.label, [])).evidence.append((triple, path))
    ranked = sorted(edges.values(), key=lambda e: (-e.confidence, e.source, e.label, e.target))
    kept = ranked[:limit] if limit is not None else ranked
    used = sorted({key for e in kept for key in (e.source, e.target)})
    return {
        "nodes": [{"id": key, "name": names[key][0], "type": names[key][1]} for key in used],
        "edges": [_edge_json(index, edge) for index, edge in enumerate(kept)],
        "types": sorted({names[key][1] for key in used}),
        "total_edges": len(ranked),
        "truncated": len(kept) < len(ranked),
    }


def _edge_json(index: int, edge: _Edge) -> dict[str, Any]:
    supporting = sorted(edge.evidence, key=lambda f: (-f[0].evidence.confidence, f[1], f[0].evidence.sentence_index))
    first = supporting[0][0].evidence
    return {
        "id": f"e{index}", "source": edge.source, "target": edge.target, "label": edge.label,
        "confidence": edge.confidence, "support": len(supporting), "model": first.model,
        "evidence": [{"sentence": t.evidence.sentence, "document": path, "index": t.evidence.sentence_index,
                      "confidence": t.evidence.confidence} for t, path in supporting[:EVIDENCE_SHOWN]],
    }


def render_view(data: dict[str, Any]) -> str:
    """The page for :func:`graph_data`'s output."""
    view = resources_dir() / "view"
    payload = json.dumps(data, ensure_ascii=False, sort_keys=True)
    payload = payload.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
    page = Template((view / "graph_view.html").read_text(encoding="utf-8"))
    return page.substitute(graph_json=payload, cytoscape=(view / CYTOSCAPE).read_text(encoding="utf-8"))
