"""Read one file into a ``Document``, or say clearly why not.

Failures are values (``FileProblem``), not exceptions, so one bad file never stops a run.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import io
import logging
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from kgbuild.types import Document

log = logging.getLogger(__name__)


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def path_text(value: object) -> str:
    """``value`` as valid Unicode: a file name's bytes that are not UTF-8 (kept by Python as surrogates,
    which stores, JSON and terminals refuse) written ``\\xNN``. The same name gives the same text every run."""
    return _SURROGATE.sub(_escaped_byte, str(value))


def _escaped_byte(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


@dataclass(frozen=True)
class FileProblem:
    """A file passed over, and why; path and reason are valid text (``path_text``), fit for any report."""

    path: str
    reason: str
    kind: str  # "skipped" (nothing to read) or "failed" (could not read)

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", path_text(self.path))
        object.__setattr__(self, "reason", path_text(self.reason))


@dataclass(frozen=True)
class ReadResult:
    document: Document | None = None
    problem: FileProblem | None = None


@dataclass
class Discovery:
    """What a folder holds for ingest: files to read (stable order) and entries skipped with a reason."""

    files: list[Path] = field(default_factory=list)
    skipped: list[FileProblem] = field(default_factory=list)


def discover(root: Path, extensions: list[str], recursive: bool = True, follow_links: bool = False) -> Discovery:
    """Candidate files under ``root``. Hidden entries and other extensions are not candidates.

    Links are followed only where they stay inside ``root`` (or with ``follow_links``), each folder is
    walked once (no link loops), and FIFOs, sockets and devices are never opened; every candidate
    passed over is reported with its reason."""
    found = Discovery()
    wanted = {e.lower() for e in extensions}
    if not root.is_dir():
        if root.exists() or root.is_symlink():
            _consider(root, root.resolve().parent, follow_links, found)
        return found
    real_root = root.resolve()
    visited = {real_root}
    stack = [root]
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            found.skipped.append(FileProblem(str(folder), f"cannot list folder: {exc.strerror}", "skipped"))
            continue
        for entry in entries:
            path = Path(entry.path)
            if entry.name.startswith("."):
                continue
            if _is_dir(path):
                target = _link_target(path, real_root, follow_links, found)
                if target is None or not recursive:
                    continue
                if target in visited:
                    if path.is_symlink():
                        found.skipped.append(FileProblem(str(path), "link to a folder that is already read", "skipped"))
                    continue
                visited.add(target)
                stack.append(path)
            elif path.suffix.lower() in wanted:
                _consider(path, real_root, follow_links, found)
    found.files.sort()
    _one_file_per_document_path(found)
    return found


def _one_file_per_document_path(found: Discovery) -> None:
    """Two names can escape to one stored path (a byte 0xff, and a literal backslash-x-f-f): the first in
    order keeps it, the other is skipped, so that no two files ever share a document."""
    owners: dict[str, Path] = {}
    for path in found.files:
        owner = owners.setdefault(document_path(path), path)
        if owner is not path:
            found.skipped.append(FileProblem(str(path), f"same stored name as {owner}", "skipped"))
    found.files = list(owners.values())


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def _link_target(path: Path, real_root: Path, follow_links: bool, found: Discovery) -> Path | None:
    """Where ``path`` really is, or None (reported) when it is a broken link, a loop or leaves the folder."""
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        loop = isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP
        found.skipped.append(FileProblem(str(path), "symbolic link loop" if loop else "broken symbolic link",
                                         "skipped"))
        return None
    if path.is_symlink() and not follow_links and target != real_root and real_root not in target.parents:
        found.skipped.append(FileProblem(
            str(path), f"symbolic link to {target}, outside the input folder (pass --follow-links to read it)",
            "skipped"))
        return None
    return target


def _consider(path: Path, real_root: Path, follow_links: bool, found: Discovery) -> None:
    target = _link_target(path, real_root, follow_links, found)
    if target is None:
        return
    try:
        mode = target.stat().st_mode
    except OSError as exc:
        found.skipped.append(FileProblem(str(path), f"cannot stat file: {exc.strerror}", "skipped"))
        return
    if not stat.S_ISREG(mode):
        kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a socket" if stat.S_ISSOCK(mode)
                else "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "not a regular file")
        found.skipped.append(FileProblem(str(path), f"{kind}; never opened", "skipped"))
        return
    found.files.append(path)


def document_path(path: Path) -> str:
    """The path a document is recorded under: absolute, with a link named as itself, not as its target, and
    valid text (``path_text``), so any file name can be stored and found again."""
    return path_text(path.parent.resolve() / path.name if path.is_symlink() else path.resolve())


def read_document(path: Path, max_bytes: int) -> ReadResult:
    """Never raises for a bad file: every failure, expected or not, becomes a one-line ``FileProblem``."""
    try:
        return _read(path, max_bytes)
    except Exception as exc:  # a parser bug or an exotic file must not end the run
        log.warning("unexpected error reading %s", path, exc_info=True)
        return _fail(str(path), f"unexpected error while reading: {type(exc).__name__}: {exc}"[:300])


def _read(path: Path, max_bytes: int) -> ReadResult:
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
    if not text.strip():
        return ReadResult(problem=FileProblem(shown, "no text content after parsing", "skipped"))
    return ReadResult(document=document_from_text(text, document_path(path), raw))


def document_from_text(text: str, path: str, raw: bytes | None = None) -> Document:
    """A document whose id derives from its bytes (``raw``, else the text as UTF-8), so it is stable across
    runs; line ends become ``\n`` so offsets mean the same on every platform."""
    digest = hashlib.sha256(raw if raw is not None else text.encode("utf-8")).hexdigest()
    return Document(id=f"doc-{digest[:16]}", path=path, hash=digest,
                    text=text.replace("\r\n", "\n").replace("\r", "\n"))


class _ReadError(Exception):
    pass


def _fail(path: str, reason: str) -> ReadResult:
    return ReadResult(problem=FileProblem(path, reason, "failed"))


_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
         (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)


def _decode(raw: bytes, declared: str | None = None) -> str:
    """A byte-order mark wins, then a charset the file declares, then UTF-8; NUL bytes mean binary."""
    encoding = next((name for bom, name in _BOMS if raw.startswith(bom)), None)
    if encoding is None and b"\x00" in raw[:8192]:
        raise _ReadError("binary content (NUL bytes) in a text file")
    if encoding is None and declared:
        try:
            encoding = codecs.lookup(declared).name
        except LookupError:
            raise _ReadError(f"declares the unknown charset {declared!r}") from None
    try:
        return raw.decode(encoding or "utf-8-sig")
    except UnicodeDecodeError as exc:
        if encoding not in (None, "utf-8-sig"):
            raise _ReadError(f"not valid {encoding} (byte 0x{raw[exc.start]:02x} at offset {exc.start})") from exc
        raise _ReadError(
            f"not valid UTF-8 (byte 0x{raw[exc.start]:02x} at offset {exc.start}); re-encode the file as UTF-8"
        ) from exc


def _plain_text(raw: bytes) -> str:
    return _decode(raw)


def _html(raw: bytes) -> str:
    from bs4 import BeautifulSoup

    declared = _META_CHARSET.search(raw[:4096])
    soup = BeautifulSoup(_decode(raw, declared.group(1).decode("ascii") if declared else None), "lxml")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    block_text = soup.get_text("\n", strip=True)
    return block_text


def _pdf(raw: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            raise _ReadError("encrypted PDF; decrypt it first")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            ZeroDivisionError) as exc:  # pypdf's own family (LimitReachedError too) and its parsing slips
        raise _ReadError(f"not a readable PDF: {type(exc).__name__}: {exc}"[:300]) from exc
    return "\n\n".join(pages)


_PARSERS: dict[str, Callable[[bytes], str]] = {
    ".txt": _plain_text,
    ".md": _plain_text,
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
}
