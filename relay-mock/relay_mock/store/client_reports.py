"""The SDKs' client reports: what they say they dropped, and why."""

from __future__ import annotations

import sqlite3


def client_reports_since(conn: sqlite3.Connection, since: float) -> sqlite3.Cursor:
    """(project, received_at, summary JSON) of every client report that arrived since then."""
    return conn.execute(
        "SELECT e.project, e.received_at, i.summary FROM items i JOIN envelopes e ON e.id = i.envelope_rowid"
        " WHERE i.type = 'client_report' AND e.received_at >= ?",
        (since,),
    )
