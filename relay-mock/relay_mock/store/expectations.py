"""The expectations (the verifier's ground truth) recorded for a window or a trace."""

from __future__ import annotations

import sqlite3
from typing import Any

from relay_mock.store.filters import rows_in


def expectation_rows(
    conn: sqlite3.Connection, *, since: float | None, until: float | None, trace_id: str | None, limit: int | None
) -> list[sqlite3.Row]:
    clauses: list[str] = ["1"]
    params: list[Any] = []
    if since is not None:
        clauses.append("started_at >= ?")
        params.append(since)
    if until is not None:
        clauses.append("started_at < ?")
        params.append(until)
    if trace_id:
        clauses.append("trace_id = ?")
        params.append(trace_id)
    sql = f"SELECT * FROM expectations WHERE {' AND '.join(clauses)} ORDER BY started_at"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return conn.execute(sql, params).fetchall()


def expectations_of(conn: sqlite3.Connection, trace_ids: list[str]) -> list[sqlite3.Row]:
    return rows_in(conn, "SELECT * FROM expectations WHERE trace_id IN ({marks})", trace_ids)
