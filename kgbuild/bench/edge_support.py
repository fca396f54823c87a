"""What one more supporting sentence costs an edge that already has many (issue 22). Until 2026-12-07 an edge's
evidence was one list on the edge, rewritten whole by every document that added to it, so the cost per document
grew with the edge's support and a corpus paid the square of it; now each sentence is an ``Evidence`` record of
its own and a document writes only its records and the edge's summary (``kgbuild.graph.evidence_records``).

    python -m kgbuild.bench.edge_support                       # embedded store, 1,000 documents
    python -m kgbuild.bench.edge_support --documents 2000 --every 250

Each document states the same fact ("Ada Ruiz works for Acme.") in one sentence and is written with
``replace_document``, as ``kgbuild ingest`` writes a new file. Reported: the median seconds per document
write around each support level, the size of all the edge's evidence records, and of its id lists (``doc_ids``
and ``sentence_ids``, which are still rewritten by every document).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from kgbuild.bench.common import report
from kgbuild.graph.embedded import EmbeddedStore
from kgbuild.graph.store import DocumentRecord
from kgbuild.schema import RelationSchema
from kgbuild.types import Entity, Evidence, Triple

TEXT = "Ada Ruiz works for Acme."


def fact(doc_id: str) -> Triple:
    return Triple(Entity("Ada Ruiz", "PERSON"), "works_for", Entity("Acme", "ORG"), Evidence(
        doc_id=doc_id, sentence_index=0, sentence=TEXT, head_start=0, head_end=8, tail_start=19, tail_end=23,
        confidence=0.9, model="bench", head_text="Ada Ruiz", tail_text="Acme", sentence_start=0))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--every", type=int, default=100, help="report the median over each span of documents")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    schema = RelationSchema.model_validate({"name": "bench", "labels": {
        "works_for": {"description": "the head works for the tail"}}})
    rows, spans = [], []
    with tempfile.TemporaryDirectory(prefix="kgbuild-support-") as folder:
        store = EmbeddedStore(Path(folder) / "graph.lbug")
        try:
            store.ensure_schema(schema)
            seconds: list[float] = []
            for number in range(1, args.documents + 1):
                document = DocumentRecord(f"doc-{number:06d}", f"docs/{number}.txt", f"hash-{number}")
                began = time.perf_counter()
                store.replace_document(document, [fact(document.id)])
                seconds.append(time.perf_counter() - began)
                if number % args.every == 0:
                    support, doc_ids, sentence_ids = store.query(
                        "MATCH ()-[r:WORKS_FOR]->() RETURN r.support, r.doc_ids, r.sentence_ids").rows[0]
                    records = store.query("MATCH (v:Evidence) RETURN v.record").rows
                    size = sum(len(record.encode("utf-8")) for (record,) in records) / 1e6
                    id_lists = sum(len(i.encode("utf-8")) for i in doc_ids + sentence_ids) / 1e6
                    median = statistics.median(seconds[-args.every:])
                    rows.append((number, round(median * 1000, 2), support, round(size, 2), round(id_lists, 3)))
                    spans.append({"support": support, "median_ms_per_document": median * 1000, "evidence_mb": size,
                                  "id_lists_mb": id_lists})
        finally:
            store.close()
    report("edge_support", ("support", "ms per document (median)", "stored support", "evidence records MB",
                            "edge id lists MB"), rows,
           {"documents": args.documents, "every": args.every, "spans": spans}, args.out)


if __name__ == "__main__":
    main()
