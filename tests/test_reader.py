"""Reader: every supported format, and every kind of bad file reported without stopping the run."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgbuild.read import discover, read_document

LIMIT = 1_000_000


def pdf_file(objects: list[bytes]) -> bytes:
    """A PDF file from its numbered objects (1 is the catalog), with a correct cross-reference table."""
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


def stream(body: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length " + str(len(body)).encode() + extra + b" >>\nstream\n" + body + b"\nendstream"


PAGE = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>"]


def tiny_pdf(text: str) -> bytes:
    """A real one-page PDF with a text object, built by hand so no writer library is needed."""
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    return pdf_file([*PAGE, stream(content), b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"])


def test_formats_are_read(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("Ann works for Acme.\r\nSecond line.", encoding="utf-8")
    (tmp_path / "b.md").write_text("# Title\n\nBob lives in Oslo.", encoding="utf-8")
    (tmp_path / "c.html").write_text(
        "<html><head><script>var x = 'hidden';</script><style>p{}</style></head>"
        "<body><p>Cat &amp; Dog <b>met</b> in Rome.</p></body></html>", encoding="utf-8")
    (tmp_path / "d.pdf").write_bytes(tiny_pdf("Dana joined Initech in Paris."))
    found = discover(tmp_path, [".txt", ".md", ".html", ".pdf"]).files
    docs = {p.name: read_document(p, LIMIT).document for p in found}
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
    found = [p.relative_to(tmp_path).as_posix() for p in discover(tmp_path, [".txt", ".md", ".html"]).files]
    assert found == ["a.md", "b.txt", "sub/d.html"]
    assert [p.name for p in discover(tmp_path, [".txt", ".md", ".html"], recursive=False).files] == ["a.md", "b.txt"]


def bomb_pdf(decompressed_bytes: int) -> bytes:
    """A small PDF whose font's /ToUnicode stream inflates past pypdf's decompression limit: text extraction
    raises pypdf's LimitReachedError."""
    import zlib

    packer, chunk, body = zlib.compressobj(9), b"0" * (1 << 20), bytearray()
    for _ in range(decompressed_bytes >> 20):
        body += packer.compress(chunk)
    body += packer.flush()
    return pdf_file([*PAGE, stream(b"BT /F1 12 Tf 72 720 Td (Hello) Tj ET"),
                     b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
                     stream(bytes(body), b" /Filter /FlateDecode")])


def test_a_decompression_bomb_is_one_failed_file(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(bomb_pdf(300 << 20))
    assert bomb.stat().st_size < 1_000_000
    result = read_document(bomb, LIMIT)
    assert result.document is None and result.problem is not None and result.problem.kind == "failed"
    assert "LimitReachedError" in result.problem.reason and "\n" not in result.problem.reason


def test_unexpected_parser_errors_become_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from kgbuild.read import reader

    def explode(raw: bytes) -> str:
        raise MemoryError("parser blew up")

    monkeypatch.setitem(reader._PARSERS, ".txt", explode)
    (tmp_path / "a.txt").write_text("text", encoding="utf-8")
    result = read_document(tmp_path / "a.txt", LIMIT)
    assert result.problem is not None and "MemoryError: parser blew up" in result.problem.reason


def test_declared_and_marked_encodings_are_honoured(tmp_path: Path) -> None:
    (tmp_path / "bom16.txt").write_bytes("Zoë lives in Zürich.".encode("utf-16"))
    (tmp_path / "bom16be.txt").write_bytes(b"\xfe\xff" + "Ann is in Oslo.".encode("utf-16-be"))
    (tmp_path / "latin.html").write_bytes(
        '<html><head><meta charset="iso-8859-1"></head><body><p>Müller lebt in Köln.</p></body></html>'
        .encode("latin-1"))
    (tmp_path / "mixed.txt").write_bytes(b"one\r\ntwo\rthree\nfour")
    (tmp_path / "liar.html").write_bytes(b'<meta charset="x-no-such-charset"><p>hi</p>')
    docs = {p.name: read_document(p, LIMIT) for p in discover(tmp_path, [".txt", ".html"]).files}
    text = {name: r.document.text for name, r in docs.items() if r.document is not None}
    assert text["bom16.txt"] == "Zoë lives in Zürich." and text["bom16be.txt"] == "Ann is in Oslo."
    assert "Müller lebt in Köln." in text["latin.html"]
    assert text["mixed.txt"] == "one\ntwo\nthree\nfour"
    problem = docs["liar.html"].problem
    assert problem is not None and "unknown charset" in problem.reason


def test_links_and_special_files_follow_the_policy(tmp_path: Path) -> None:
    import os

    outside = tmp_path / "outside.txt"
    outside.write_text("Secret text outside the folder.", encoding="utf-8")
    root = tmp_path / "in"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "real.txt").write_text("Inside.", encoding="utf-8")
    (root / "inner-link.txt").symlink_to(root / "sub" / "real.txt")
    (root / "out-link.txt").symlink_to(outside)
    (root / "broken.txt").symlink_to(tmp_path / "absent.txt")
    (root / "loop.txt").symlink_to(root / "loop.txt")
    (root / "sub" / "up").symlink_to(root)  # a folder loop
    (root / "out-dir").symlink_to(tmp_path)
    os.mkfifo(root / "pipe.txt")
    (root / "nul.txt").symlink_to("/dev/null")
    deep = root.joinpath(*[f"d{i}" for i in range(40)])
    deep.mkdir(parents=True)
    (deep / "deep.txt").write_text("Deep.", encoding="utf-8")
    found = discover(root, [".txt"])
    names = sorted(p.name for p in found.files)
    assert names == ["deep.txt", "inner-link.txt", "real.txt"]
    reasons = {Path(p.path).name: p.reason for p in found.skipped}
    assert "outside the input folder" in reasons["out-link.txt"] and "--follow-links" in reasons["out-link.txt"]
    assert "outside the input folder" in reasons["out-dir"]
    assert reasons["broken.txt"] == "broken symbolic link" and reasons["loop.txt"] == "symbolic link loop"
    assert reasons["up"] == "link to a folder that is already read"
    assert reasons["pipe.txt"] == "a FIFO; never opened" and "outside the input folder" in reasons["nul.txt"]
    followed = discover(root, [".txt"], follow_links=True)
    assert "out-link.txt" in {p.name for p in followed.files}
    assert {Path(p.path).name: p.reason for p in followed.skipped}["nul.txt"] == "a device; never opened"
    document = read_document(root / "out-link.txt", LIMIT).document
    assert document is not None and document.path == str(root.resolve() / "out-link.txt")  # named as the link
