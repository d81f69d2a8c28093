"""Reads of the forwarding outbox (the writer inserts and changes its rows: store/writer.py)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from relay_mock.store.filters import rows_in


@dataclass(slots=True)
class Due:
    """A pending envelope whose time to be sent has come, with what sending it needs (its bytes
    are read only for the envelopes that will be sent: `with_bodies`)."""

    rowid: int
    project_id: int
    queued_at: float
    attempts: int
    sdk_client: str | None
    user_agent: str | None
    remote_addr: str | None
    content_encoding: str
    item_types: list[str]
    endpoint: str  # envelope | store | otlp_traces | otlp_logs
    raw: bytes = b""


def due(conn: sqlite3.Connection, now: float, *, limit: int) -> list[Due]:
    rows = conn.execute(
        "SELECT o.envelope_rowid, o.project_id, o.queued_at, o.attempts, e.sdk_client, e.user_agent,"
        " e.remote_addr, e.content_encoding, e.item_types, e.endpoint"
        " FROM outbox o JOIN envelopes e ON e.id = o.envelope_rowid"
        " WHERE o.state = 'pending' AND o.next_at <= ? ORDER BY o.next_at LIMIT ?",
        (now, limit),
    ).fetchall()
    return [Due(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8].split(",") if r[8] else [], r[9]) for r in rows]


def with_bodies(conn: sqlite3.Connection, rows: list[Due]) -> list[Due]:
    """The rows with their envelopes' stored bytes; those whose envelope is gone are left out."""
    found_rows = rows_in(conn, "SELECT id, raw FROM envelopes WHERE id IN ({marks})", [row.rowid for row in rows])
    raw: dict[int, bytes] = {int(r[0]): bytes(r[1]) for r in found_rows}
    found = []
    for row in rows:
        if row.rowid in raw:
            row.raw = raw[row.rowid]
            found.append(row)
    return found


def next_due(conn: sqlite3.Connection) -> float | None:
    """When the earliest pending envelope may be sent (None: nothing pending)."""
    value = conn.execute("SELECT min(next_at) FROM outbox WHERE state = 'pending'").fetchone()[0]
    return None if value is None else float(value)


@dataclass(slots=True)
class Backlog:
    pending: int
    oldest_queued_at: float | None


@dataclass(slots=True)
class Summary:
    backlog: dict[int, Backlog]  # per project id
    counters: dict[str, int]  # forward.<what>.<project id>
    last_errors: dict[int, tuple[float, str]]  # per project id: when, what


def summary(conn: sqlite3.Connection) -> Summary:
    """Per project id the pending envelopes and when the oldest was acknowledged, the forwarding
    counters and the last errors, read in one transaction: the writer moves a row out of pending
    and counts it in the same commit, so the two always add up."""
    conn.execute("BEGIN")
    try:
        backlog = {
            project_id: Backlog(count, oldest)
            for project_id, count, oldest in conn.execute(
                "SELECT project_id, count(*), min(queued_at) FROM outbox WHERE state = 'pending' GROUP BY project_id"
            )
        }
        counters = {
            name: value for name, value in conn.execute("SELECT name, value FROM counters WHERE name LIKE 'forward.%'")
        }
        errors = last_errors(conn)
    finally:
        conn.execute("COMMIT")
    return Summary(backlog, counters, errors)


def last_errors(conn: sqlite3.Connection) -> dict[int, tuple[float, str]]:
    """The forwarder's last error per project id (when, what), as committed with its outcome."""
    return {
        int(r[0]): (float(r[1]), str(r[2])) for r in conn.execute("SELECT project_id, at, detail FROM forward_errors")
    }


def state_of(conn: sqlite3.Connection, rowid: int) -> sqlite3.Row | None:
    """One envelope's outbox row (None: its project is not forwarded)."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT state, attempts, uncertain, status, detail, next_at, queued_at, updated_at"
        " FROM outbox WHERE envelope_rowid = ?",
        (rowid,),
    ).fetchone()
    return row
