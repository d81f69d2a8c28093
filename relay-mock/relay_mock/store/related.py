"""Traces related to a trace by time: where a split trace's other half may be.

When a callee does not read the caller's trace context (sentry-trace vs W3C traceparent), its
spans start a trace of their own: nothing links the two by id. The trace page of either half
reads the other from here: the traces whose root may start inside a call span that nobody
answered (or inside an expected request whose head never arrived), and the traces (or
expectations) whose spans were open when a trace's root started. Bounded reads: the envelopes
received around the moment, by the `envelopes_received` index.
"""

from __future__ import annotations

import sqlite3

# How long after a span ended its envelope may arrive (SDK flush and OTLP batch delays), and before.
ARRIVAL_AFTER_S = 300.0
ARRIVAL_BEFORE_S = 5.0
# Traces read per question: a busy run has many traces open at any moment.
LIMIT = 20

_STARTING = """
SELECT DISTINCT i.trace_id FROM items i JOIN envelopes e ON e.id = i.envelope_rowid
WHERE e.received_at >= ? AND e.received_at < ? AND i.type IN ('transaction', 'span')
  AND i.trace_id IS NOT NULL AND i.start_ts >= ? AND i.start_ts <= ?
UNION
SELECT DISTINCT t.trace_id FROM telemetry t JOIN envelopes e ON e.id = t.envelope_rowid
WHERE e.received_at >= ? AND e.received_at < ? AND t.kind = 'span'
  AND t.trace_id IS NOT NULL AND t.ts >= ? AND t.ts <= ?
LIMIT ?
"""

_OPEN_AT = """
SELECT DISTINCT i.trace_id FROM items i JOIN envelopes e ON e.id = i.envelope_rowid
WHERE e.received_at >= ? AND e.received_at < ? AND i.type IN ('transaction', 'span')
  AND i.trace_id IS NOT NULL AND i.start_ts <= ? AND coalesce(i.end_ts, i.start_ts) >= ?
UNION
SELECT trace_id FROM expectations
WHERE started_at >= ? AND started_at <= ? AND coalesce(ended_at, started_at) >= ?
LIMIT ?
"""

# Asked on its own, with a limit of its own: a witness naming the trace is decisive evidence, and
# under load the traces open at a moment (one per request in flight) fill a shared limit first.
_WITNESSING = """
SELECT trace_id FROM expectations
WHERE started_at >= ? AND started_at <= ? AND witnesses LIKE ?
LIMIT ?
"""


def traces_starting(conn: sqlite3.Connection, lo: float, hi: float) -> list[str]:
    """Traces with a transaction or span that started in [lo, hi]."""
    arrival = (lo - ARRIVAL_BEFORE_S, hi + ARRIVAL_AFTER_S)
    rows = conn.execute(_STARTING, [*arrival, lo, hi, *arrival, lo, hi, LIMIT]).fetchall()
    return [row[0] for row in rows]


def traces_open_at(conn: sqlite3.Connection, at: float, trace_id: str, tolerance: float) -> list[str]:
    """Traces with a transaction open at `at`, expected requests in flight then, and
    expectations whose witnesses name `trace_id`."""
    arrival = (at - ARRIVAL_BEFORE_S, at + ARRIVAL_AFTER_S)
    early = at - ARRIVAL_AFTER_S  # expectations are indexed by start: a request lasts less than this
    in_flight = (early, at + tolerance, at - tolerance)
    witnessed = (early, at + tolerance, f"%{trace_id}%")
    rows = conn.execute(_WITNESSING, [*witnessed, LIMIT]).fetchall()
    rows += conn.execute(_OPEN_AT, [*arrival, at + tolerance, at - tolerance, *in_flight, LIMIT]).fetchall()
    return list(dict.fromkeys(row[0] for row in rows))
