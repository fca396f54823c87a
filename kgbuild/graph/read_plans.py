"""The databases' own parsers and planners as the authority on what a read-only query does.

After the guard (:mod:`cypher_guard`) has accepted the text, each database is asked about it:

* **LadybugDB.** Preparing the statement is its parser's verdict on how many statements the text holds
  (it refuses more than one); ``EXPLAIN`` prints the physical plan, one box per operator
  (``SCAN_NODE_TABLE[1]``) and, for table functions, the function (``Function: READ_FTABLE``). Only
  operators that read the stored graph may appear: ``COPY_TO``, ``EXPORT_DATABASE``,
  ``INSTALL_EXTENSION``, ``TRANSACTION`` (``CHECKPOINT``), ``STANDALONE_CALL`` (settings) and table
  functions such as ``READ_CSV_PARALLEL`` (``LOAD FROM``) or ``CURRENT_SETTING`` are refused. Text
  that a query puts into the plan (an alias, a string) can only *add* names, which refuses more; it
  cannot hide an operator the planner chose.
* **Neo4j.** ``EXPLAIN`` in the read transaction: the server must classify the query as a read
  (``query_type`` "r") and plan no file loading and no procedure call.

The guard still runs first: binding alone touches files for some statements (LadybugDB creates the
folder of ``EXPORT DATABASE`` even while preparing it).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from typing import Any

from kgbuild.errors import StoreError
from kgbuild.graph.cypher_guard import refused

READ_OPERATORS = frozenset({
    "AGGREGATE", "AGGREGATE_FINALIZE", "AGGREGATE_SCAN", "CROSS_PRODUCT", "EMPTY_RESULT", "FILTER", "FLATTEN",
    "HASH_JOIN_BUILD", "HASH_JOIN_PROBE", "INTERSECT", "INTERSECT_BUILD", "LIMIT", "MULTIPLICITY_REDUCER",
    "ORDER_BY", "ORDER_BY_MERGE", "ORDER_BY_SCAN", "PATH_PROPERTY_PROBE", "PRIMARY_KEY_SCAN_NODE_TABLE",
    "PROJECTION", "QUERY_PRIMARY_KEY_LOOKUP", "RECURSIVE_EXTEND", "RESULT_COLLECTOR", "SCAN_NODE_TABLE",
    "SCAN_REL_TABLE", "SEMI_MASKER", "SKIP", "TABLE_FUNCTION_CALL", "TOP_K", "TOP_K_SCAN", "UNION_ALL_SCAN",
    "UNWIND",
})
# The only table function a read plan needs: the scan of an intermediate result the plan itself built.
READ_TABLE_FUNCTIONS = frozenset({"READ_FTABLE"})
# Neo4j plan operators a read transaction still allows but a read-only query must not run: file loading
# and procedure calls (dbms.*, db.*, apoc.*), however the query reaches them.
REFUSED_NEO4J_OPERATORS = ("LoadCSV", "ProcedureCall", "TransactionApply", "TransactionForeach")

_OPERATOR = re.compile(r"(?<=│)\s*([A-Z][A-Z_0-9]*)\[\d+\]\s*(?=│)")
_FUNCTION = re.compile(r"Function: (\S+)")


def execute_read_only(conn: Any, cypher: str, params: dict[str, Any]) -> Any:
    """Run the statement LadybugDB prepared, once its parser found one statement and its planner a read."""
    statement = prepared_single_statement(conn, cypher, params)
    refuse_unless_read_plan(conn, cypher, params)
    return conn.execute(statement, params)


def prepared_single_statement(conn: Any, cypher: str, params: dict[str, Any]) -> Any:
    """LadybugDB's prepared statement for ``cypher``; its parser refuses text holding several statements."""
    with warnings.catch_warnings():  # prepare() is deprecated in favour of execute(), which runs them all
        warnings.simplefilter("ignore", DeprecationWarning)
        prepared = conn.prepare(cypher, params)
    if not prepared.is_success():
        message = prepared.get_error_message()
        if "multiple statements" in message:
            raise refused("the database reads more than one statement in it")
        raise StoreError(f"query failed: {message}")
    return prepared


def plan_violation(plan: str) -> str | None:
    """Why the plan printed by LadybugDB's ``EXPLAIN`` is not a plain read of the graph, or None."""
    operators = set(_OPERATOR.findall(plan))
    if not operators:
        return "the database's plan for it could not be read"
    others = sorted(operators - READ_OPERATORS)
    if others:
        return f"the database would run {', '.join(others)}, which a read-only query may not"
    functions = sorted(set(_FUNCTION.findall(plan)) - READ_TABLE_FUNCTIONS)
    if functions:
        return f"the database would call the table function {', '.join(functions)}"
    return None


def refuse_unless_read_plan(conn: Any, cypher: str, params: dict[str, Any]) -> None:
    """Ask LadybugDB's planner (EXPLAIN plans, it does not execute) and refuse anything but a read."""
    result = conn.execute("EXPLAIN " + cypher, params)
    lines = []
    while result.has_next():
        lines.append(str(result.get_next()[0]))
    reason = plan_violation("\n".join(lines))
    if reason:
        raise refused(reason)


def _neo4j_operators(plan: dict[str, Any] | None) -> Iterator[str]:
    pending = [plan] if plan else []
    while pending:
        step = pending.pop()
        yield str(step.get("operatorType", "")).split("@")[0]
        pending.extend(step.get("children") or [])


def refuse_unless_read_summary(summary: Any) -> None:
    """Neo4j's verdict on an EXPLAINed query: a read (``query_type`` "r") without refused operators."""
    if summary.query_type != "r":
        raise refused(f"the server classifies it as {summary.query_type!r}, not as a read query")
    found = sorted({op for op in _neo4j_operators(summary.plan) if op.startswith(REFUSED_NEO4J_OPERATORS)})
    if found:
        raise refused(f"the server would run {', '.join(found)}, which a read-only query may not")
