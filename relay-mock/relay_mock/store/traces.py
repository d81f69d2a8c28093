"""Which traces the store holds, most recently active first."""

from __future__ import annotations

import sqlite3
from typing import Any

from relay_mock.store.filters import project_clause


def list_trace_ids(
    conn: sqlite3.Connection, *, limit: int, cursor: int | None, project: str | None, since: float | None
) -> tuple[list[str], int | None]:
    """Trace ids, most recently active first; the cursor is the last envelope seq seen."""
    clauses = ["i.trace_id IS NOT NULL", "i.type IN ('transaction', 'span', 'event')"]
    params: list[Any] = []
    if project:
        clause, value = project_clause(project)
        clauses.append(clause)
        params.append(value)
    if since is not None:
        clauses.append("e.received_at >= ?")
        params.append(since)
    having = ""
    if cursor is not None:
        having = "HAVING last_seq < ?"
    rows = conn.execute(
        f"SELECT i.trace_id, max(e.id) AS last_seq FROM items i JOIN envelopes e ON e.id = i.envelope_rowid"
        f" WHERE {' AND '.join(clauses)} GROUP BY i.trace_id {having} ORDER BY last_seq DESC LIMIT ?",
        [*params, *([cursor] if cursor is not None else []), limit + 1],
    ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    return [row["trace_id"] for row in rows], (rows[-1]["last_seq"] if more and rows else None)
