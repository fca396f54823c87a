"""Which stored entity a mention belongs to: the alias records a store keeps, as one lookup table.

A triple arrives with its ends as written ("ESA" in document d; for a pronoun, the name it was linked
to, its words kept in the evidence). The table maps such a spelling to
its canonical entity: first a decision scoped to the document (acronym, short form, article), then
cross-document merges, followed to their end. Evidence keeps the spelling (``head_text``), so a
graph can always be rebuilt from its evidence under a changed table: that is how a merge is made
and how ``kgbuild aliases --undo`` splits one back out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import replace

from kgbuild.errors import StoreError
from kgbuild.types import REFERENCE_REASONS, Alias, Entity, Triple, entity_key


class AliasTable:
    """Indexed so that a document write costs time in its own decisions, not in the size of the table."""

    def __init__(self, records: Iterable[Alias] = ()) -> None:
        self._records: dict[str, Alias] = {}
        self._by_doc: dict[str, set[str]] = defaultdict(set)
        self._local: dict[tuple[str, str], set[str]] = defaultdict(set)  # (spelling key, doc) → ids
        self._global: dict[str, set[str]] = defaultdict(set)  # spelling key → ids of cross-document merges
        self._by_canonical: dict[str, set[str]] = defaultdict(set)
        self._merged_into: dict[str, set[str]] = defaultdict(set)  # canonical key → spelling keys merged into it
        self._undone: set[tuple[str, str]] = set()
        self._undone_links: set[tuple[str, str, str]] = set()  # pronoun links: (spelling, name, document)
        for record in records:
            self._put(record)

    def records(self) -> list[Alias]:
        return sorted(self._records.values(), key=lambda r: (r.canonical_key, r.spelling_key, r.doc_id, r.undone))

    def __bool__(self) -> bool:
        return bool(self._records)

    # -- lookups ------------------------------------------------------------------------
    def resolve_key(self, key: str, doc_id: str) -> tuple[str, str | None]:
        """The canonical key of ``key`` as written in ``doc_id``, and its name (None: unchanged)."""
        name = None
        local = self._best(self._local.get((key, doc_id), ()))
        if local is not None:
            key, name = local.canonical_key, local.canonical
        seen = {key}
        while (merge := self._best(self._global.get(key, ()))) is not None:
            key, name = merge.canonical_key, merge.canonical
            if key in seen:  # add() refuses cycles; stop rather than loop on a damaged table
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

    def _undone_record(self, record: Alias) -> bool:
        """A merge undone anywhere stays undone; a pronoun's link only in its own document."""
        if record.reason in REFERENCE_REASONS:
            return (record.spelling_key, record.canonical_key, record.doc_id) in self._undone_links
        return self.is_undone(record.spelling_key, record.canonical_key)

    def names_of(self, canonical_key: str) -> list[str]:
        """The other spellings of an entity, for its ``aliases`` property."""
        members, todo = set(), [canonical_key]
        while todo:
            key = todo.pop()
            if key not in members:
                members.add(key)
                todo += self._merged_into.get(key, ())
        names = set()
        for record in (self._records[i] for key in members for i in self._by_canonical.get(key, ())):
            if self._active(record):
                final, name = self.resolve_key(record.spelling_key, record.doc_id)
                if final == canonical_key and record.spelling != name:
                    names.add(record.spelling)
        return sorted(names)

    def touched_keys(self, records: Iterable[Alias]) -> set[str]:
        """Entities whose edges or aliases change when ``records`` are added or undone (ask before and after)."""
        keys: set[str] = set()
        for r in records:
            keys |= {r.spelling_key, r.canonical_key, self.resolve_key(r.canonical_key, r.doc_id)[0],
                     self.resolve_key(r.spelling_key, r.doc_id)[0]}
        return keys

    def document_records(self, doc_id: str) -> list[Alias]:
        return [self._records[i] for i in self._by_doc.get(doc_id, ()) if not self._records[i].undone]

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
        return Triple(Entity(ev.head_refers_to or ev.head_text or triple.head.name, triple.head.type), triple.label,
                      Entity(ev.tail_refers_to or ev.tail_text or triple.tail.name, triple.tail.type), ev)

    def through_undone_link(self, triple: Triple) -> bool:
        """Whether an end of ``triple`` is a pronoun or description whose link a user undid."""
        ev = triple.evidence
        ends = ((ev.head_link, ev.head_text, ev.head_refers_to, triple.head),
                (ev.tail_link, ev.tail_text, ev.tail_refers_to, triple.tail))
        undone = self._undone_links
        return any(link and (entity_key(said, end.type), entity_key(refers_to, end.type), ev.doc_id) in undone
                   for link, said, refers_to, end in ends)

    # -- changes ------------------------------------------------------------------------
    def add(self, records: Iterable[Alias]) -> list[Alias]:
        """Store new decisions; those a user undid, and merges that would close a cycle, are dropped."""
        accepted = []
        for record in records:
            if record.undone or self._undone_record(record):
                continue
            if self._records.get(record.id) == record:
                continue
            if not record.doc_id and self.resolve_key(record.canonical_key, "")[0] == record.spelling_key:
                continue
            self._put(record)
            accepted.append(record)
        return accepted

    def drop_document(self, doc_id: str) -> list[Alias]:
        """Forget the decisions found in one document (it is being replaced or removed)."""
        dropped = self.document_records(doc_id)
        for record in dropped:
            self._remove(record)
        return dropped

    def undo(self, spelling_key: str, canonical_key: str | None = None) -> list[Alias]:
        """Mark every merge of ``spelling_key`` into another entity as undone (with ``canonical_key``: only into
        that entity, named as the record has it or by the entity key it resolves to); returns the changed
        records. A pronoun's link is undone in the documents it was found in, not for every later one."""
        active = [r for r in self.matching(spelling_key, canonical_key) if self._active(r)]
        if not active:
            same_key = any(r.spelling_key == spelling_key for r in self._records.values())
            hint = " (a spelling that differs only by case or a leading article is the same key)" if same_key else ""
            into = f" into {canonical_key!r}" if canonical_key else ""
            raise StoreError(f"no merge of {spelling_key!r}{into} to undo{hint}; `kgbuild aliases` lists them")
        undone = [replace(r, undone=True) for r in active]
        for record in undone:
            self._put(record)
        return undone

    def matching(self, spelling_key: str, canonical_key: str | None = None) -> list[Alias]:
        """The records that merge ``spelling_key`` into another entity (into ``canonical_key`` only)."""
        return [r for r in self._records.values() if r.spelling_key == spelling_key and r.canonical_key != spelling_key
                and canonical_key in (None, r.canonical_key, self.resolve_key(r.canonical_key, r.doc_id)[0])]

    # -- the indexes --------------------------------------------------------------------
    def _active(self, record: Alias) -> bool:
        return not record.undone and not self._undone_record(record)

    def _best(self, ids: Iterable[str]) -> Alias | None:
        """Of competing decisions, the active one with the higher score, then the smaller id."""
        candidates = [r for r in map(self._records.__getitem__, ids) if self._active(r)]
        return min(candidates, key=lambda r: (-r.score, r.id)) if candidates else None

    def _put(self, record: Alias) -> None:
        if record.id in self._records:
            self._remove(self._records[record.id])
        self._records[record.id] = record
        if record.undone:
            if record.reason in REFERENCE_REASONS:
                self._undone_links.add((record.spelling_key, record.canonical_key, record.doc_id))
            else:
                self._undone.add((record.spelling_key, record.canonical_key))
            return
        self._by_doc[record.doc_id].add(record.id)
        if record.reason in REFERENCE_REASONS:
            return  # a pronoun's link is listed and undone here, but its evidence names what it refers to
        self._by_canonical[record.canonical_key].add(record.id)
        if record.doc_id:
            self._local[(record.spelling_key, record.doc_id)].add(record.id)
        elif record.spelling_key != record.canonical_key:
            self._global[record.spelling_key].add(record.id)
            self._merged_into[record.canonical_key].add(record.spelling_key)

    def _remove(self, record: Alias) -> None:
        del self._records[record.id]
        if record.undone:
            return
        self._by_doc[record.doc_id].discard(record.id)
        self._by_canonical[record.canonical_key].discard(record.id)
        self._local.get((record.spelling_key, record.doc_id), set()).discard(record.id)
        self._global.get(record.spelling_key, set()).discard(record.id)
        if not self._global.get(record.spelling_key):
            self._merged_into[record.canonical_key].discard(record.spelling_key)
