"""The requests relay-mock refused, newest first."""

from __future__ import annotations

import sqlite3
from typing import Any

from relay_mock.store.values import iso


def list_refusals(conn: sqlite3.Connection, *, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT * FROM refusals ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    return [{**dict(row), "received_at": iso(row["received_at"]), "injected": bool(row["injected"])} for row in rows]
