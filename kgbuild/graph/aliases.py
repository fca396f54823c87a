"""Which stored entity a mention belongs to: the alias records a store keeps, as one lookup table.

A triple arrives with its ends as written ("ESA" in document d). The table maps such a spelling to
its canonical entity: first a decision scoped to the document (acronym, short form, article), then
cross-document merges, followed to their end. Evidence keeps the spelling (``head_text``), so a
graph can always be rebuilt from its evidence under a changed table: that is how a merge is made
and how ``kgbuild aliases --undo`` splits one back out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from kgbuild.errors import StoreError
from kgbuild.types import Alias, Entity, Triple


class AliasTable:
    def __init__(self, records: Iterable[Alias] = ()) -> None:
        self._records: dict[str, Alias] = {r.id: r for r in records}
        self._index()

    def copy(self) -> AliasTable:
        return AliasTable(self._records.values())

    def records(self) -> list[Alias]:
        return sorted(self._records.values(), key=lambda r: (r.canonical_key, r.spelling_key, r.doc_id, r.undone))

    def __bool__(self) -> bool:
        return bool(self._records)

    # -- lookups ------------------------------------------------------------------------
    def resolve_key(self, key: str, doc_id: str) -> tuple[str, str | None]:
        """The canonical key of ``key`` as written in ``doc_id``, and its name (None: unchanged)."""
        name = None
        local = self._local.get((key, doc_id))
        if local is not None:
            key, name = local.canonical_key, local.canonical
        seen = {key}
        while key in self._global:
            record = self._global[key]
            key, name = record.canonical_key, record.canonical
            if key in seen:  # a cycle of merges cannot be stored (add refuses it); stop rather than loop
                break
            seen.add(key)
        return key, name

    def resolve(self, entity: Entity, doc_id: str) -> Entity:
        key, name = self.resolve_key(entity.key, doc_id)
        if name is None or (key == entity.key and name == entity.name):
            return entity
        return Entity(name, entity.type)

    def is_undone(self, spelling_key: str, canonical_key: str) -> bool:
        return (spelling_key, canonical_key) in self._undone

    def names_of(self, canonical_key: str) -> list[str]:
        """The other spellings of an entity, for its ``aliases`` property."""
        return sorted(self._names.get(canonical_key, ()))

    def touched_keys(self, records: Iterable[Alias]) -> set[str]:
        """Entities whose edges or aliases change when ``records`` are added or undone."""
        keys: set[str] = set()
        for r in records:
            keys |= {r.spelling_key, r.canonical_key, self.resolve_key(r.canonical_key, r.doc_id)[0]}
        return keys

    # -- triples ------------------------------------------------------------------------
    def canonical(self, triple: Triple) -> Triple:
        """The triple with both ends resolved; its evidence keeps the spellings."""
        doc_id = triple.evidence.doc_id
        head, tail = self.resolve(triple.head, doc_id), self.resolve(triple.tail, doc_id)
        if head is triple.head and tail is triple.tail:
            return triple
        evidence = replace(triple.evidence, head_text=triple.evidence.head_text or triple.head.name,
                           tail_text=triple.evidence.tail_text or triple.tail.name)
        return Triple(head, triple.label, tail, evidence)

    @staticmethod
    def surface(triple: Triple) -> Triple:
        """A stored triple with its ends as the document wrote them, ready to be resolved again."""
        ev = triple.evidence
        return Triple(Entity(ev.head_text or triple.head.name, triple.head.type), triple.label,
                      Entity(ev.tail_text or triple.tail.name, triple.tail.type), ev)

    # -- changes ------------------------------------------------------------------------
    def add(self, records: Iterable[Alias]) -> list[Alias]:
        """Store new decisions; those a user undid, and merges that would close a cycle, are dropped."""
        fresh = [r for r in records if not r.undone and not self.is_undone(r.spelling_key, r.canonical_key)
                 and self._records.get(r.id) != r]
        accepted = [r for r in fresh if r.doc_id]
        self._records.update((r.id, r) for r in accepted)
        self._index()
        for record in (r for r in fresh if not r.doc_id):
            if self.resolve_key(record.canonical_key, "")[0] == record.spelling_key:
                continue
            self._records[record.id] = record
            self._index()
            accepted.append(record)
        return accepted

    def drop_document(self, doc_id: str) -> list[Alias]:
        """Forget the decisions found in one document (it is being replaced or removed)."""
        dropped = [r for r in self._records.values() if r.doc_id == doc_id and not r.undone]
        for record in dropped:
            del self._records[record.id]
        self._index()
        return dropped

    def undo(self, spelling_key: str) -> list[Alias]:
        """Mark every merge of ``spelling_key`` into another entity as undone; returns the changed records."""
        active = [r for r in self._records.values()
                  if not r.undone and r.spelling_key == spelling_key and r.canonical_key != spelling_key]
        if not active:
            same_key = any(r.spelling_key == spelling_key for r in self._records.values())
            hint = " (a spelling that differs only by case or a leading article is the same key)" if same_key else ""
            raise StoreError(f"no merge of {spelling_key!r} to undo{hint}; `kgbuild aliases` lists them")
        undone = [replace(r, undone=True) for r in active]
        for record in undone:
            self._records[record.id] = record
        self._index()
        return undone

    def _index(self) -> None:
        self._local: dict[tuple[str, str], Alias] = {}
        self._global: dict[str, Alias] = {}
        self._undone = {(r.spelling_key, r.canonical_key) for r in self._records.values() if r.undone}
        # Deterministic when two decisions compete: the higher score, then the smaller id.
        for r in sorted(self._records.values(), key=lambda r: (-r.score, r.id)):
            if r.undone or (r.spelling_key, r.canonical_key) in self._undone:
                continue
            if r.doc_id:
                self._local.setdefault((r.spelling_key, r.doc_id), r)
            elif r.spelling_key != r.canonical_key:
                self._global.setdefault(r.spelling_key, r)
        self._names: dict[str, set[str]] = {}
        for r in self._records.values():
            if not r.undone and not self.is_undone(r.spelling_key, r.canonical_key):
                key, name = self.resolve_key(r.spelling_key, r.doc_id)
                if r.spelling != name:
                    self._names.setdefault(key, set()).add(r.spelling)
