"""The requests relay-mock refused, newest first."""

from __future__ import annotations

import sqlite3

from relay_mock.models import Refusal
from relay_mock.store.values import iso


def list_refusals(conn: sqlite3.Connection, *, limit: int) -> list[Refusal]:
    rows = conn.execute("SELECT * FROM refusals ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    # Every column goes out (item_types too, beyond what the model names).
    return [
        Refusal.model_validate({**dict(row), "received_at": iso(row["received_at"]), "injected": bool(row["injected"])})
        for row in rows
    ]


def refusals_between(conn: sqlite3.Connection, since: float, until: float) -> sqlite3.Cursor:
    """(received_at, status, reason, project_id, injected, item_types) of the refusals in the window."""
    return conn.execute(
        "SELECT received_at, status, reason, project_id, injected, item_types FROM refusals"
        " WHERE received_at >= ? AND received_at < ?",
        (since, until),
    )
