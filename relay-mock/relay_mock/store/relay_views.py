"""Relay's verdicts (the relay_views table): what the background worker reads and stores, and
what the inspection API reads back (one item's stored verdict, the leaks, per-project counts)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

import orjson

from relay_mock.models import LeakedItem, LeakReport, ProjectRef, RelayVerdictCounts
from relay_mock.store.records import rowid_of
from relay_mock.store.values import iso

NOT_COVERED = "sentry_relay normalizes and scrubs events, transactions and feedback only, not logs, v2 spans or metrics"
COLUMNS = "envelope_rowid, idx, project_id, type, verdict, errors, scrubbed, leaks, detail, duration_ms"


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as Relay's view reads it: its payload, how its envelope arrived, and (for one item
    read back, `item_row`) the verdict the worker stored, if any."""

    envelope_rowid: int
    idx: int
    type: str
    project_id: int
    project: str
    received_at: float
    remote_addr: str | None
    user_agent: str | None
    sdk_client: str | None
    payload: bytes
    verdict: str | None = None
    detail: str | None = None


ITEM_COLUMNS = (
    "i.envelope_rowid, i.idx, i.type, e.project_id, e.project, e.received_at, e.remote_addr, e.user_agent,"
    " e.sdk_client, substr(e.raw, i.payload_offset + 1, i.payload_length) AS payload"
)


def item_row(conn: sqlite3.Connection, envelope_id: str, index: int) -> StoredItem | None:
    """Item `index` of an envelope: its payload, how it arrived, and its stored verdict if any."""
    row = conn.execute(
        f"SELECT {ITEM_COLUMNS}, v.verdict, v.detail"
        " FROM envelopes e JOIN items i ON i.envelope_rowid = e.id"
        " LEFT JOIN relay_views v ON v.envelope_rowid = i.envelope_rowid AND v.idx = i.idx"
        " WHERE e.id = ? AND e.envelope_id = ? AND i.idx = ?",
        (rowid_of(envelope_id), envelope_id, index),
    ).fetchone()
    return StoredItem(*row) if row is not None else None


def items_after(
    conn: sqlite3.Connection, after: tuple[int, int], *, up_to: int, types: tuple[str, ...], limit: int
) -> list[StoredItem]:
    """The next items of these types, in store order after (envelope row id, index), up to an
    envelope row id: what the worker computes next."""
    marks = ",".join("?" * len(types))
    rows = conn.execute(
        f"SELECT {ITEM_COLUMNS}"
        " FROM items i JOIN envelopes e ON e.id = i.envelope_rowid"
        f" WHERE (i.envelope_rowid, i.idx) > (?, ?) AND i.envelope_rowid <= ? AND i.type IN ({marks})"
        " ORDER BY i.envelope_rowid, i.idx LIMIT ?",
        (*after, up_to, *types, limit),
    ).fetchall()
    return [StoredItem(*row) for row in rows]


def last_computed(conn: sqlite3.Connection) -> tuple[int, int] | None:
    """The (envelope row id, index) of the last verdict stored."""
    row = conn.execute(
        "SELECT envelope_rowid, idx FROM relay_views ORDER BY envelope_rowid DESC, idx DESC LIMIT 1"
    ).fetchone()
    return (row[0], row[1]) if row else None


def latest_envelope(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM envelopes").fetchone()[0])


def store_verdicts(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    """Rows of COLUMNS in one statement: the write lock is held for one step, with no GIL
    handover inside it. Verdicts of envelopes evicted meanwhile are dropped."""
    placeholders = ",".join(["(" + ",".join("?" * 10) + ")"] * len(rows))
    conn.execute(
        f"INSERT OR REPLACE INTO relay_views ({COLUMNS}) SELECT * FROM (VALUES {placeholders})"
        " WHERE column1 IN (SELECT id FROM envelopes)",
        [value for row in rows for value in row],
    )


def store_failed(conn: sqlite3.Connection, rowid: int, idx: int, reason: str) -> None:
    conn.execute(
        f"INSERT OR REPLACE INTO relay_views ({COLUMNS}) SELECT i.envelope_rowid, i.idx, e.project_id,"
        " i.type, 'failed', 0, 0, NULL, ?, NULL FROM items i JOIN envelopes e ON e.id = i.envelope_rowid"
        " WHERE i.envelope_rowid = ? AND i.idx = ?",
        (reason, rowid, idx),
    )


def list_leaks(
    conn: sqlite3.Connection, *, limit: int, project: str | None = None, pending_envelopes: int
) -> LeakReport:
    """Secrets that survive the SDK's hooks and Relay's scrubbing, newest first, one row per item;
    `pending_envelopes` is the worker's backlog (envelopes whose items it has yet to look at)."""
    clauses, params = ["v.leaks IS NOT NULL"], []
    if project:
        clauses.append("(e.project = ? OR CAST(e.project_id AS TEXT) = ?)")
        params += [project, project]
    rows = conn.execute(
        "SELECT e.envelope_id, e.project, e.project_id, e.received_at, i.idx, i.type, i.event_id, i.name, v.leaks"
        " FROM relay_views v JOIN items i ON i.envelope_rowid = v.envelope_rowid AND i.idx = v.idx"
        " JOIN envelopes e ON e.id = v.envelope_rowid"
        f" WHERE {' AND '.join(clauses)} ORDER BY v.envelope_rowid DESC, v.idx DESC LIMIT ?",
        [*params, limit],
    ).fetchall()
    items = [
        LeakedItem(
            envelope_id=row["envelope_id"],
            item=row["idx"],
            type=row["type"],
            event_id=row["event_id"],
            name=row["name"],
            project=ProjectRef(id=row["project_id"], name=row["project"]),
            received_at=iso(row["received_at"]),
            leaks=orjson.loads(row["leaks"]),
        )
        for row in rows
    ]
    leaks = sum(len(item.leaks) for item in items)
    return LeakReport(items=items, leaks=leaks, covers=NOT_COVERED, pending_envelopes=pending_envelopes)


def verdict_counts(conn: sqlite3.Connection) -> dict[str, RelayVerdictCounts]:
    """Per project: items Relay would store as sent, repair (normalization errors), reject, or
    that could not be computed; values scrubbed; items with leaks."""
    by_project: dict[str, RelayVerdictCounts] = {}
    for row in conn.execute(
        "SELECT e.project, v.verdict, count(*) AS n, sum(v.scrubbed) AS scrubbed,"
        " sum(v.leaks IS NOT NULL) AS leaky, sum(v.errors) AS errors"
        " FROM relay_views v JOIN envelopes e ON e.id = v.envelope_rowid GROUP BY 1, 2"
    ):
        counts = by_project.get(row["project"])
        if counts is None:
            counts = by_project[row["project"]] = RelayVerdictCounts(
                ok=0, repaired=0, rejected=0, failed=0, normalization_errors=0, scrubbed_values=0, items_with_leaks=0
            )
        setattr(counts, row["verdict"], row["n"])
        counts.normalization_errors += row["errors"] or 0
        counts.scrubbed_values += row["scrubbed"] or 0
        counts.items_with_leaks += row["leaky"] or 0
    return by_project
