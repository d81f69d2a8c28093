"""Error events: the list and one event in full."""

from __future__ import annotations

import sqlite3
from typing import Any, NamedTuple

import orjson

from relay_mock.models import ErrorDetail, ErrorPage, ErrorSummary
from relay_mock.store.filters import project_clause
from relay_mock.store.values import iso

# What an ErrorSummary takes from the row as it is: the columns are named as its fields.
SUMMARY_COLUMNS = (
    "event_id",
    "envelope_id",
    "project",
    "timestamp",
    "level",
    "transaction",
    "trace_id",
    "span_id",
    "release",
    "environment",
    "server_name",
)
ERROR_COLUMNS = (
    'i.event_id, i.trace_id, i.span_id, i.name AS "transaction", i.level, i.release, i.environment,'
    " i.server_name, i.summary, i.end_ts AS timestamp, i.payload_offset, i.payload_length, e.envelope_id,"
    " e.project, e.received_at, e.id AS seq"
)


def list_errors(
    conn: sqlite3.Connection,
    *,
    limit: int,
    cursor: int | None,
    project: str | None,
    trace_id: str | None,
    level: str | None,
    query: str | None,
) -> ErrorPage:
    clauses = ["i.type = 'event'"]
    params: list[Any] = []
    if project:
        clause, value = project_clause(project)
        clauses.append(clause)
        params.append(value)
    if trace_id:
        clauses.append("i.trace_id = ?")
        params.append(trace_id)
    if level:
        clauses.append("i.level = ?")
        params.append(level)
    if query:
        clauses.append("(i.summary LIKE ? OR i.name LIKE ?)")
        params += [f"%{query}%", f"%{query}%"]
    if cursor is not None:
        clauses.append("e.id < ?")
        params.append(cursor)
    rows = conn.execute(
        f"SELECT {ERROR_COLUMNS} FROM items i JOIN envelopes e ON e.id = i.envelope_rowid"
        f" WHERE {' AND '.join(clauses)} ORDER BY e.id DESC LIMIT ?",
        [*params, limit + 1],
    ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    return ErrorPage(
        errors=[error_summary(row) for row in rows], next_cursor=rows[-1]["seq"] if more and rows else None
    )


class Headline(NamedTuple):
    """What an event's index summary says went wrong: its last exception, or its message."""

    exception: bool  # whether the event carried an exception at all
    type: str | None
    value: str | None
    message: str | None


def headline(summary: dict[str, Any] | None) -> Headline:
    """The one reading of an event's summary, for the error lists, item titles and the verifier."""
    if not summary:
        return Headline(False, None, None, None)
    exceptions = summary.get("exceptions") or []
    last = exceptions[-1] if exceptions else {}
    message = summary.get("message")
    return Headline(bool(exceptions), last.get("type"), last.get("value"), str(message) if message else None)


def error_summary(row: sqlite3.Row) -> ErrorSummary:
    summary = orjson.loads(row["summary"]) if row["summary"] else {}
    said = headline(summary)
    return ErrorSummary(
        **{column: row[column] for column in SUMMARY_COLUMNS},
        received_at=iso(row["received_at"]),
        type=said.type,
        value=said.value,
        message=said.message,
        tags=summary.get("tags") or {},
    )


def get_error(conn: sqlite3.Connection, event_id: str) -> ErrorDetail | None:
    row = conn.execute(
        f"SELECT {ERROR_COLUMNS}, e.raw FROM items i JOIN envelopes e ON e.id = i.envelope_rowid"
        " WHERE i.type = 'event' AND i.event_id = ? ORDER BY e.id DESC LIMIT 1",
        (event_id,),
    ).fetchone()
    if row is None:
        return None
    summary = error_summary(row)
    start = row["payload_offset"]
    payload = bytes(row["raw"])[start : start + row["payload_length"]]
    try:
        event = orjson.loads(payload)
    except orjson.JSONDecodeError:
        event = {}
    if not isinstance(event, dict):
        event = {}
    exception = event.get("exception")
    values = exception.get("values") if isinstance(exception, dict) else exception
    breadcrumbs = event.get("breadcrumbs")
    if isinstance(breadcrumbs, dict):
        breadcrumbs = breadcrumbs.get("values")
    tags = event.get("tags")
    return ErrorDetail(
        **summary.model_dump(exclude={"tags"}),
        # The event's own tags (an object or [key, value] pairs), else what the index kept.
        tags=tags if tags and isinstance(tags, dict | list) else summary.tags,
        exceptions=values if isinstance(values, list) else [],
        breadcrumbs=breadcrumbs if isinstance(breadcrumbs, list) else [],
        contexts=event.get("contexts") if isinstance(event.get("contexts"), dict) else {},
        request=event.get("request") if isinstance(event.get("request"), dict) else None,
        sdk=event.get("sdk"),
        event=event,
    )
