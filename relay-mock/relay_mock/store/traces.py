"""The traces the store holds: which, most recently active first (the trace list), and the
items of a window or of named traces, as the verifier reads them (`relay_mock.verify.collect`)."""

from __future__ import annotations

import sqlite3
from typing import Any

from relay_mock.store.filters import project_clause, rows_in


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


# The services' clocks and the caller's may differ a little: a trace is in the window within this.
SKEW_S = 0.5

ITEMS_SQL = """
SELECT i.type, i.event_id, i.trace_id, i.span_id, i.parent_span_id, i.name, i.op, i.status, i.level,
       i.release, i.environment, i.start_ts, i.end_ts, i.summary, e.project, e.envelope_id,
       e.received_at, e.header, e.sdk_client,
       CASE WHEN i.type IN ('transaction', 'profile', 'span')
            THEN substr(e.raw, i.payload_offset + 1, i.payload_length) END AS payload
FROM items i JOIN envelopes e ON e.id = i.envelope_rowid
WHERE i.type IN ('transaction', 'span', 'event', 'profile') AND {where}
"""


def window_items(conn: sqlite3.Connection, *, since: float | None, until: float | None) -> sqlite3.Cursor:
    """Every transaction, span item, error event and profile of every trace that happened in
    the window, one row each (the columns of ITEMS_SQL).

    A trace is in the window by when it happened (its items' own timestamps) or because an
    expectation recorded it there, not by when its envelopes arrived: an SDK drains its queue
    long after an ingest outage, and those stragglers belong to the run that produced them.
    Once a trace is in, all of it is read, also the parts that started just outside.
    """
    if since is None and until is None:
        return conn.execute(ITEMS_SQL.format(where="1"))
    low = (since if since is not None else 0.0) - SKEW_S
    high = (until if until is not None else 1e18) + SKEW_S
    where = (
        "(i.trace_id IN (SELECT trace_id FROM items WHERE trace_id IS NOT NULL"
        "   AND coalesce(start_ts, end_ts) >= ? AND coalesce(start_ts, end_ts) < ?"
        " UNION SELECT trace_id FROM expectations WHERE started_at >= ? AND started_at < ?)"
        " OR (i.trace_id IS NULL AND coalesce(i.start_ts, i.end_ts, e.received_at) >= ?"
        "   AND coalesce(i.start_ts, i.end_ts, e.received_at) < ?))"
    )
    return conn.execute(ITEMS_SQL.format(where=where), [low, high, low, high, low, high])


def trace_items(conn: sqlite3.Connection, trace_ids: list[str]) -> list[sqlite3.Row]:
    """The same rows for the traces named: items filed under them, and the span items that
    hold any of their spans (an OTLP batch holds the spans of several traces in one item,
    filed under one of them; the telemetry table indexes every span's own trace id)."""
    rows = rows_in(conn, ITEMS_SQL.format(where="i.trace_id IN ({marks})"), trace_ids)
    wanted = set(trace_ids)
    shared = rows_in(
        conn,
        ITEMS_SQL.format(
            where="i.type = 'span' AND (i.envelope_rowid, i.idx) IN"
            " (SELECT envelope_rowid, idx FROM telemetry WHERE kind = 'span' AND trace_id IN ({marks}))"
        ),
        trace_ids,
    )
    return rows + [row for row in shared if row["trace_id"] not in wanted]


PAYLOADS_SQL = """
SELECT i.type, e.project, e.envelope_id, substr(e.raw, i.payload_offset + 1, i.payload_length) AS payload
FROM items i JOIN envelopes e ON e.id = i.envelope_rowid
WHERE i.type IN ({marks}) AND e.received_at >= ? AND e.received_at < ?
"""


def payloads_of(conn: sqlite3.Connection, types: tuple[str, ...], *, since: float, until: float) -> sqlite3.Cursor:
    """The payloads of the items of these types that arrived in the window (by arrival time)."""
    return conn.execute(PAYLOADS_SQL.format(marks=",".join("?" * len(types))), [*types, since, until])
