"""Neo4j values for users and logs: write counters, driver types as plain data, safe messages."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from kgbuild.errors import StoreError


@dataclass
class WriteCounters:
    """Committed write counts from the driver's result summaries; a rerun of the same data adds none."""

    nodes_created: int = 0
    nodes_deleted: int = 0
    relationships_created: int = 0
    relationships_deleted: int = 0
    properties_set: int = 0

    def add(self, other: Any) -> None:
        for item in fields(self):
            setattr(self, item.name, getattr(self, item.name) + getattr(other, item.name))

    def since(self, before: WriteCounters) -> WriteCounters:
        """What was written after ``before`` (a ``copy()`` taken earlier) was taken."""
        return WriteCounters(**{item.name: getattr(self, item.name) - getattr(before, item.name)
                                for item in fields(self)})

    def copy(self) -> WriteCounters:
        return WriteCounters(**{item.name: getattr(self, item.name) for item in fields(self)})


@dataclass(frozen=True)
class OperatorProfile:
    operator: str
    details: str
    rows: int
    db_hits: int


@dataclass(frozen=True)
class StatementProfile:
    """One PROFILEd statement: what the server did for it (Community's slotted runtime reports no
    per-operator time, so time is the statement's wall clock as the client saw it)."""

    statement: str
    seconds: float
    rows: int
    db_hits: int
    operators: list[OperatorProfile]

    @classmethod
    def from_summary(cls, statement: str, summary: Any, seconds: float) -> StatementProfile:
        operators: list[OperatorProfile] = []

        def walk(plan: dict[str, Any]) -> None:
            args = plan.get("args", {})
            operators.append(OperatorProfile(str(plan.get("operatorType", "?")), str(args.get("Details", "")),
                                             int(plan.get("rows", args.get("Rows", 0))),
                                             int(plan.get("dbHits", args.get("DbHits", 0)))))
            for child in plan.get("children", []):
                walk(child)

        walk(summary.profile or {})
        rows = operators[0].rows if operators else 0
        return cls(statement, seconds, rows, sum(o.db_hits for o in operators), operators)

    def to_json(self) -> dict[str, Any]:
        return {"statement": self.statement, "seconds": round(self.seconds, 4), "rows": self.rows,
                "db_hits": self.db_hits,
                "operators": [f"{o.operator} rows={o.rows} db_hits={o.db_hits} {o.details}".strip()
                              for o in self.operators]}


BOLT_SCHEMES = ("bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc")


def check_bolt_uri(uri: str) -> None:
    """Refuse, in one line, a URI the Bolt driver cannot use (``http://`` would fail deep in the driver)."""
    scheme = uri.split("://", 1)[0].lower() if "://" in uri else ""
    if scheme not in BOLT_SCHEMES:
        raise StoreError(f"Neo4j URI {safe_uri(uri)!r} must start with one of "
                         f"{', '.join(s + '://' for s in BOLT_SCHEMES)} (kgbuild talks Bolt, not HTTP)")


def safe_uri(uri: str) -> str:
    """The URI without any ``user:password@`` part, fit for messages and logs."""
    try:
        parts = urlsplit(uri)
    except ValueError:
        return "<invalid URI>"
    if "@" not in parts.netloc:
        return uri
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def one_line(exc: BaseException) -> str:
    """A driver error's message on one line, at most 300 characters."""
    message = getattr(exc, "message", None) or str(exc)
    return " ".join(str(message).split())[:300]


def plain(value: Any) -> Any:
    """Driver graph types → JSON-friendly values.

    A node becomes its properties plus ``_label``; a relationship its properties plus ``type`` and
    ``_label`` (the key the embedded store uses, so both stores print the same); a path its nodes
    and relationships; temporal values their ISO text.
    """
    from neo4j.graph import Node, Path, Relationship
    from neo4j.spatial import Point

    if isinstance(value, Node):
        return {**{k: plain(v) for k, v in value.items()}, "_label": next(iter(sorted(value.labels)), None)}
    if isinstance(value, Relationship):
        return {**{k: plain(v) for k, v in value.items()}, "type": value.type, "_label": value.type}
    if isinstance(value, Path):
        return {"nodes": [plain(n) for n in value.nodes], "relationships": [plain(r) for r in value.relationships]}
    if isinstance(value, Point):
        return {"srid": value.srid, "coordinates": list(value)}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if hasattr(value, "iso_format"):
        return value.iso_format()
    return value
