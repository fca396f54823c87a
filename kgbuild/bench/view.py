"""How fast ``kgbuild view``'s page opens: synthetic graphs of N relationships in headless Chromium.

    python -m kgbuild.bench.view [--edges 500,5000] [--repeats 3] [--screenshot docs/view.png --store PATH]

Seconds from navigation start to the page's ``data-ready`` mark (Cytoscape.js has parsed the data, laid out
and drawn the graph), median of ``--repeats`` fresh loads. Needs Chromium, chromedriver and selenium (the
test extras). ``--screenshot`` also writes a picture of a stored graph's page (for the README).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kgbuild.bench.common import report
from kgbuild.graph.view import graph_data, render_view
from kgbuild.testing.browser import headless_chromium
from kgbuild.types import Entity, Evidence, Triple

TYPES = ("PERSON", "ORG", "GPE", "DATE")
LABELS = ("works_for", "lives_in", "org_based_in", "located_in", "born_on")


def synthetic_facts(edges: int, seed: int = 13) -> list[tuple[Triple, str]]:
    """``edges`` distinct relationships over about 0.4 entities per relationship, one sentence each."""
    rng = random.Random(seed)
    entities = [Entity(f"Entity {i}", TYPES[i % len(TYPES)]) for i in range(max(2, int(edges * 0.4)))]
    seen: set[tuple[int, str, int]] = set()
    facts: list[tuple[Triple, str]] = []
    while len(facts) < edges:
        head, tail, label = rng.randrange(len(entities)), rng.randrange(len(entities)), rng.choice(LABELS)
        if head == tail or (head, label, tail) in seen:
            continue
        seen.add((head, label, tail))
        sentence = f"{entities[head].name} {label.replace('_', ' ')} {entities[tail].name}."
        evidence = Evidence(f"doc-{len(facts) % 97}", 0, sentence, 0, 1, 2, 3, round(rng.uniform(0.5, 1.0), 3), "bench")
        facts.append((Triple(entities[head], label, entities[tail], evidence), f"doc-{len(facts) % 97}.txt"))
    return facts


def seconds_to_ready(driver: Any, page: Path, repeats: int) -> list[float]:
    from selenium.webdriver.support.ui import WebDriverWait

    times = []
    for _ in range(repeats):
        driver.get("about:blank")
        driver.get(page.as_uri())
        WebDriverWait(driver, 120).until(lambda d: d.execute_script("return document.body.dataset.ready") == "true")
        times.append(driver.execute_script("return performance.now()") / 1000)
    return times


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edges", default="500,5000")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--screenshot", type=Path, default=None, help="write a PNG of --store's page")
    parser.add_argument("--store", type=Path, default=None, help="an embedded store for --screenshot")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    driver, rows, results = headless_chromium(), [], {}
    try:
        with tempfile.TemporaryDirectory() as folder:
            for edges in (int(n) for n in args.edges.split(",")):
                page = Path(folder) / f"view-{edges}.html"
                page.write_text(render_view(graph_data(synthetic_facts(edges))), encoding="utf-8")
                times = seconds_to_ready(driver, page, args.repeats)
                results[edges] = {"seconds": times, "bytes": page.stat().st_size}
                rows.append([edges, statistics.median(times), page.stat().st_size / 1e6])
            if args.screenshot is not None and args.store is not None:
                screenshot(driver, args.store, args.screenshot, Path(folder))
    finally:
        driver.quit()
    return report("view", ["relationships", "seconds to ready (median)", "page MB"], rows, {"results": results},
                  args.out)


def screenshot(driver: Any, store_path: Path, out: Path, folder: Path) -> None:
    from kgbuild.graph.embedded import EmbeddedStore

    store = EmbeddedStore(store_path, read_only=True)
    try:
        paths = {record.id: path for path, record in store.documents().items()}
        facts = [(t, Path(paths.get(t.evidence.doc_id, "")).name) for t in store.iter_triples()]
    finally:
        store.close()
    page = folder / "screenshot.html"
    page.write_text(render_view(graph_data(facts)), encoding="utf-8")
    seconds_to_ready(driver, page, 1)
    driver.execute_script("kgbuildGraph.edges().max(e => e.source().degree()).ele.emit('tap')")
    driver.save_screenshot(str(out))


if __name__ == "__main__":
    main()
