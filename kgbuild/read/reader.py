"""Read one file into a ``Document``, or say clearly why not.

Failures are values (``FileProblem``), not exceptions, so one bad file never stops a run.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from kgbuild.types import Document

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FileProblem:
    path: str
    reason: str
    kind: str  # "skipped" (nothing to read) or "failed" (could not read)


@dataclass(frozen=True)
class ReadResult:
    document: Document | None = None
    problem: FileProblem | None = None


def discover(root: Path, extensions: list[str], recursive: bool = True) -> Iterator[Path]:
    """Candidate files in a stable order, so runs and their summaries are reproducible."""
    if root.is_file():
        yield root
        return
    wanted = {e.lower() for e in extensions}
    pattern = "**/*" if recursive else "*"
    for path in sorted(root.glob(pattern)):
        hidden = any(part.startswith(".") for part in path.relative_to(root).parts)
        if path.is_file() and not hidden and path.suffix.lower() in wanted:
            yield path


def read_document(path: Path, max_bytes: int) -> ReadResult:
    shown = str(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        return _fail(shown, f"cannot stat file: {exc.strerror}")
    if size == 0:
        return ReadResult(problem=FileProblem(shown, "empty file (0 bytes)", "skipped"))
    if size > max_bytes:
        return ReadResult(problem=FileProblem(
            shown, f"file is {size:,} bytes, over the reader.max_bytes limit of {max_bytes:,}", "skipped"))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return _fail(shown, f"cannot read file: {exc.strerror}")
    parser = _PARSERS.get(path.suffix.lower(), _plain_text)
    try:
        text = parser(raw)
    except _ReadError as exc:
        return _fail(shown, str(exc))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return ReadResult(problem=FileProblem(shown, "no text content after parsing", "skipped"))
    digest = hashlib.sha256(raw).hexdigest()
    document = Document(id=f"doc-{digest[:16]}", path=str(path.resolve()), hash=digest, text=text)
    return ReadResult(document=document)


class _ReadError(Exception):
    pass


def _fail(path: str, reason: str) -> ReadResult:
    return ReadResult(problem=FileProblem(path, reason, "failed"))


def _decode(raw: bytes) -> str:
    if b"\x00" in raw[:8192]:
        raise _ReadError("binary content (NUL bytes) in a text file")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _ReadError(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); re-encode the file as UTF-8"
        ) from exc


def _plain_text(raw: bytes) -> str:
    return _decode(raw)


def _html(raw: bytes) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(raw), "lxml")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    block_text = soup.get_text("\n", strip=True)
    return block_text


def _pdf(raw: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise _ReadError("encrypted PDF; decrypt it first")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        raise _ReadError(f"not a readable PDF: {exc}") from exc
    return "\n\n".join(pages)


_PARSERS: dict[str, Callable[[bytes], str]] = {
    ".txt": _plain_text,
    ".md": _plain_text,
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
}
