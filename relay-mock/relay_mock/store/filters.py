"""Which envelopes a list, an export, a wait or the live feed asks for, as SQL clauses."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

# SQLite binds at most 32,766 parameters; lists of ids are read in chunks well below that.
CHUNK = 500


@dataclass(frozen=True)
class EnvelopeFilter:
    item_type: str | None = None
    trace_id: str | None = None
    event_id: str | None = None
    project: str | None = None  # id or name
    release: str | None = None
    environment: str | None = None
    server_name: str | None = None
    since: float | None = None
    until: float | None = None
    forward: str | None = None  # an outbox state (pending, sent, rejected, expired), or "none"

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        item_clauses: list[str] = []
        item_params: list[Any] = []
        for column, value in (
            ("type", self.item_type),
            ("event_id", self.event_id.replace("-", "").lower() if self.event_id else None),
            ("release", self.release),
            ("environment", self.environment),
            ("server_name", self.server_name),
        ):
            if value:
                item_clauses.append(f"{column} = ?")
                item_params.append(value)
        if self.trace_id:
            # A log or metric container holds records of many traces: its rows are in telemetry.
            clauses.append(
                "e.id IN (SELECT envelope_rowid FROM items WHERE trace_id = ?"
                " UNION SELECT envelope_rowid FROM telemetry WHERE trace_id = ?)"
            )
            params += [self.trace_id, self.trace_id]
        if item_clauses:
            clauses.append(f"e.id IN (SELECT envelope_rowid FROM items WHERE {' AND '.join(item_clauses)})")
            params += item_params
        if self.project:
            clause, value = project_clause(self.project)
            clauses.append(clause)
            params.append(value)
        if self.since is not None:
            clauses.append("e.received_at >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append("e.received_at < ?")
            params.append(self.until)
        if self.forward == "none":
            clauses.append("e.id NOT IN (SELECT envelope_rowid FROM outbox)")
        elif self.forward:
            clauses.append("e.id IN (SELECT envelope_rowid FROM outbox WHERE state = ?)")
            params.append(self.forward)
        return (" AND ".join(clauses) or "1"), params


def project_clause(project: str, *, alias: str = "e") -> tuple[str, Any]:
    """A project named by its id (digits) or its name."""
    if project.isdigit():
        return f"{alias}.project_id = ?", int(project)
    return f"{alias}.project = ?", project


def rows_in(conn: sqlite3.Connection, sql: str, ids: list[Any]) -> list[sqlite3.Row]:
    """`sql` run for every chunk of `ids`, its `{marks}` standing for one chunk's placeholders."""
    found: list[sqlite3.Row] = []
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        found += conn.execute(sql.format(marks=",".join("?" * len(chunk))), chunk).fetchall()
    return found
