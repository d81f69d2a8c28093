"""Reading Relay's verdicts back: one item's full view (recomputed), the leaks, per-project counts."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from relay_mock.relay_view.compute import EVENT_TYPES, Arrival, compute, suggestions
from relay_mock.relay_view.scrubbing import ProjectScrubbing, default_scrubbing
from relay_mock.store.records import rowid_of
from relay_mock.store.values import iso

NOT_COVERED = "sentry_relay normalizes and scrubs events, transactions and feedback only, not logs, v2 spans or metrics"


class NotFound(Exception):
    pass


def item_view(
    conn: sqlite3.Connection, envelope_id: str, index: int, scrubbing: dict[int, ProjectScrubbing]
) -> dict[str, Any]:
    """What Relay would store for item `index` (0-based) of an envelope, and why each value changed."""
    rowid = rowid_of(envelope_id)
    row = conn.execute(
        "SELECT i.type, e.project_id, e.project, e.received_at, e.remote_addr, e.user_agent, e.sdk_client,"
        " substr(e.raw, i.payload_offset + 1, i.payload_length) AS payload,"
        " v.verdict, v.detail, v.duration_ms"
        " FROM envelopes e JOIN items i ON i.envelope_rowid = e.id"
        " LEFT JOIN relay_views v ON v.envelope_rowid = i.envelope_rowid AND v.idx = i.idx"
        " WHERE e.id = ? AND e.envelope_id = ? AND i.idx = ?",
        (rowid, envelope_id, index),
    ).fetchone()
    if row is None:
        raise NotFound(f"no item {index} in envelope {envelope_id}")
    if row["type"] not in EVENT_TYPES:
        raise NotFound(f"item {index} is a {row['type']}: {NOT_COVERED}")
    project_scrubbing = scrubbing.get(row["project_id"], default_scrubbing())
    base = {"type": row["type"], "project": {"id": row["project_id"], "name": row["project"]}}
    if row["verdict"] == "failed":
        # Never recomputed on read: it already ran over its budget or took its process down.
        return {**base, **_empty("failed", row["detail"]), "settings": project_scrubbing.settings}
    arrival = Arrival(row["project_id"], row["received_at"], row["remote_addr"], row["user_agent"], row["sdk_client"])
    view = compute(bytes(row["payload"]), arrival, project_scrubbing)
    return {
        **base,
        "verdict": view.verdict,
        "detail": view.detail,
        "normalized": view.normalized,
        "stored": view.stored,
        "meta": view.meta,
        "errors": view.errors,
        "changes": view.changes,
        "leaks": view.leaks,
        "suggestions": suggestions(view),
        "settings": project_scrubbing.settings,
        "computed_in_background": row["verdict"] is not None,
        "duration_ms": view.duration_ms,
    }


def _empty(verdict: str, detail: str | None) -> dict[str, Any]:
    return {
        "verdict": verdict,
        "detail": detail,
        "normalized": None,
        "stored": None,
        "meta": {},
        "errors": [],
        "changes": [],
        "leaks": [],
        "suggestions": [],
    }


def list_leaks(conn: sqlite3.Connection, *, limit: int, project: str | None = None) -> dict[str, Any]:
    """Secrets that survive the SDK's hooks and Relay's scrubbing, newest first, one row per item."""
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
        {
            "envelope_id": row["envelope_id"],
            "item": row["idx"],
            "type": row["type"],
            "event_id": row["event_id"],
            "name": row["name"],
            "project": {"id": row["project_id"], "name": row["project"]},
            "received_at": iso(row["received_at"]),
            "leaks": orjson.loads(row["leaks"]),
        }
        for row in rows
    ]
    return {"items": items, "leaks": sum(len(item["leaks"]) for item in items), "covers": NOT_COVERED}


def verdict_counts(conn: sqlite3.Connection) -> dict[str, Any]:
    """Per project: items Relay would store as sent, repair (normalization errors), reject, or
    that could not be computed; values scrubbed; items with leaks."""
    by_project: dict[str, Any] = {}
    for row in conn.execute(
        "SELECT e.project, v.verdict, count(*) AS n, sum(v.scrubbed) AS scrubbed,"
        " sum(v.leaks IS NOT NULL) AS leaky, sum(v.errors) AS errors"
        " FROM relay_views v JOIN envelopes e ON e.id = v.envelope_rowid GROUP BY 1, 2"
    ):
        entry = by_project.setdefault(
            row["project"],
            {
                "ok": 0,
                "repaired": 0,
                "rejected": 0,
                "failed": 0,
                "normalization_errors": 0,
                "scrubbed_values": 0,
                "items_with_leaks": 0,
            },
        )
        entry[row["verdict"]] = row["n"]
        entry["normalization_errors"] += row["errors"] or 0
        entry["scrubbed_values"] += row["scrubbed"] or 0
        entry["items_with_leaks"] += row["leaky"] or 0
    return by_project
