"""The graph reflects the folder as of the last run: what each file means for the stored documents.

A document is its content (its id is the content hash), recorded under one path. Before anything is
labelled, every candidate file is hashed, so each decision sees the whole folder:

=============  ============================================================================
new            content not in the graph: read, label, write
unchanged      same path, same content: nothing to do (the file is not even parsed)
changed        same path, new content: label the new content; the old content's evidence goes
renamed        content already in the graph under a path that no longer holds it: the document
               is moved to this path, its evidence kept, nothing relabelled
duplicated     content another file of the folder has (the one the graph names, else the first
               in path order): recorded as a duplicate of that file, not labelled twice
deleted        stored content that no file holds any more: its evidence is removed (edges left
               with none are deleted), unless ``keep_missing``
=============  ============================================================================

A file that exists but cannot be read keeps its last good evidence: bad input loses nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from kgbuild.graph.store import DocumentRecord
from kgbuild.read.reader import document_path

Action = Literal["read", "unchanged", "renamed", "duplicate"]
HASH_CHUNK = 1 << 20


def content_hash(path: Path, max_bytes: int) -> str | None:
    """SHA-256 of the file's bytes, read in chunks; None when it is empty, over ``max_bytes`` or unreadable
    (reading it then says why)."""
    try:
        size = path.stat().st_size
        if size == 0 or size > max_bytes:
            return None
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(HASH_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def document_id(digest: str) -> str:
    return f"doc-{digest[:16]}"


@dataclass(frozen=True)
class FileDecision:
    action: Action
    record: DocumentRecord | None = None  # the record to write (renamed) or the stored one (unchanged)
    canonical: str = ""  # for a duplicate: the file whose content it repeats
    previous: DocumentRecord | None = None  # for "read": stored content this path replaces, if no file holds it


@dataclass
class FolderState:
    stored: dict[str, DocumentRecord]  # by path, as the store returned them
    digests: dict[str, str]  # document path → content hash, for the files that could be hashed
    owners: dict[str, str] = field(default_factory=dict)  # document id → first path holding it
    stored_ids: dict[str, DocumentRecord] = field(default_factory=dict)  # document id → stored record

    @classmethod
    def scan(cls, files: list[Path], stored: dict[str, DocumentRecord], max_bytes: int) -> FolderState:
        digests = {}
        for path in files:
            digest = content_hash(path, max_bytes)
            if digest is not None:
                digests[document_path(path)] = digest
        state = cls(stored, digests, stored_ids={record.id: record for record in stored.values()})
        for record in stored.values():  # content stays with the file the graph already names, if it still has it
            if digests.get(record.path) == record.hash:
                state.owners[record.id] = record.path
        for doc_path in sorted(digests):
            state.owners.setdefault(document_id(digests[doc_path]), doc_path)
        return state

    @property
    def current_ids(self) -> set[str]:
        return set(self.owners)

    def decide(self, doc_path: str) -> FileDecision:
        """What to do with one listed file (by its document path)."""
        previous = self.stored.get(doc_path)
        digest = self.digests.get(doc_path)
        if digest is None:  # unreadable now: reading reports why
            return FileDecision("read", previous=None)
        doc_id = document_id(digest)
        owner = self.owners[doc_id]
        if owner != doc_path:
            return FileDecision("duplicate", canonical=owner)
        if previous is not None and previous.hash == digest:
            return FileDecision("unchanged", record=previous)
        if doc_id in self.stored_ids:
            return FileDecision("renamed", record=DocumentRecord(id=doc_id, path=doc_path, hash=digest))
        replaced = previous if previous is not None and previous.id not in self.current_ids else None
        return FileDecision("read", previous=replaced)

    def to_remove(self, listed: set[str], protected: set[str], keep_missing: bool) -> list[DocumentRecord]:
        """Stored documents no file holds any more. ``protected``: ids of files that failed to read."""
        return [record for path, record in sorted(self.stored.items())
                if record.id not in self.current_ids and record.id not in protected
                and not (keep_missing and path not in listed)]
