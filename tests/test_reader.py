"""Reader: every supported format, and every kind of bad file reported without stopping the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgbuild.read import discover, read_document

LIMIT = 1_000_000


def tiny_pdf(text: str) -> bytes:
    """A real one-page PDF with a text object, built by hand so no writer library is needed."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def test_formats_are_read(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Ann works for Acme.\r\nSecond line.", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Title\n\nBob lives in Oslo.", encoding="utf-8")
    (tmp_path / "c.html").write_text(
        "<html><head><script>var x = 'hidden';</script><style>p{}</style></head>"
        "<body><p>Cat &amp; Dog <b>met</b> in Rome.</p></body></html>", encoding="utf-8")
    (tmp_path / "d.pdf").write_bytes(tiny_pdf("Dana joined Initech in Paris."))
    docs = {p.name: read_document(p, LIMIT).document for p in discover(tmp_path, [".txt", ".md", ".html", ".pdf"])}
    assert all(d is not None for d in docs.values())
    assert docs["a.txt"].text == "Ann works for Acme.\nSecond line."  # type: ignore[union-attr]
    assert "Bob lives in Oslo." in docs["b.md"].text  # type: ignore[union-attr]
    html = docs["c.html"].text  # type: ignore[union-attr]
    assert "Cat & Dog" in html and "Rome" in html and "hidden" not in html and "p{}" not in html
    assert "Dana joined Initech in Paris." in docs["d.pdf"].text  # type: ignore[union-attr]


def test_document_id_is_stable_and_content_based(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Same text.", encoding="utf-8")
    first = read_document(path, LIMIT).document
    second = read_document(path, LIMIT).document
    assert first is not None and second is not None and first.id == second.id
    path.write_text("Changed text.", encoding="utf-8")
    changed = read_document(path, LIMIT).document
    assert changed is not None and changed.id != first.id and changed.path == first.path


@pytest.mark.parametrize("name,content,kind,reason", [
    ("empty.txt", b"", "skipped", "empty file"),
    ("blank.txt", b"   \n\n", "skipped", "no text content"),
    ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "failed", "binary content"),
    ("latin1.txt", "Café Zürich".encode("latin-1"), "failed", "not valid UTF-8"),
    ("zero.pdf", b"", "skipped", "empty file"),
    ("broken.pdf", b"%PDF-1.4\nthis is not a pdf body", "failed", "not a readable PDF"),
    ("huge.txt", b"a" * (LIMIT + 1), "skipped", "over the reader.max_bytes limit"),
])
def test_bad_files_are_reported(tmp_path: Path, name: str, content: bytes, kind: str, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    result = read_document(path, LIMIT)
    assert result.document is None and result.problem is not None
    assert result.problem.kind == kind
    assert reason in result.problem.reason
    assert result.problem.path == str(path)


def test_discover_is_sorted_filtered_and_skips_hidden(tmp_path: Path) -> None:
    for name in ["b.txt", "a.md", "c.csv", ".hidden.txt", "sub/d.html"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x", encoding="utf-8")
    found = [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path, [".txt", ".md", ".html"])]
    assert found == ["a.md", "b.txt", "sub/d.html"]
    assert [p.name for p in discover(tmp_path, [".txt", ".md", ".html"], recursive=False)] == ["a.md", "b.txt"]
