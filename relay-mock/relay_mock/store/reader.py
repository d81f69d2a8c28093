"""Read-side queries. Each runs in a worker thread on a connection of its own, so
readers never block the event loop nor the writer (WAL lets them run side by side)."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson

from relay_mock.protocol.envelope import parse_envelope
from relay_mock.store.database import connect
from relay_mock.store.writer import rowid_of

T = TypeVar("T")

ENVELOPE_COLUMNS = (
    "id, envelope_id, received_at, project_id, project, public_key, auth_form, sdk_client, endpoint, path,"
    " content_encoding, compressed_size, raw_size, user_agent, remote_addr, event_id, trace_id, header, item_types"
)


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
            if self.project.isdigit():
                clauses.append("e.project_id = ?")
                params.append(int(self.project))
            else:
                clauses.append("e.project = ?")
                params.append(self.project)
        if self.since is not None:
            clauses.append("e.received_at >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append("e.received_at < ?")
            params.append(self.until)
        return (" AND ".join(clauses) or "1"), params


class Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=True)
            self._local.conn = conn
        return conn

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run `fn(connection, *args, **kwargs)` in a worker thread."""
        return await asyncio.to_thread(lambda: fn(self.connection(), *args, **kwargs))


def list_envelopes(
    conn: sqlite3.Connection,
    flt: EnvelopeFilter,
    *,
    limit: int,
    cursor: int | None,
    newest_first: bool,
    payloads: bool,
) -> dict[str, Any]:
    where, params = flt.where()
    if cursor is not None:
        where += " AND e.id < ?" if newest_first else " AND e.id > ?"
        params.append(cursor)
    order = "DESC" if newest_first else "ASC"
    columns = ENVELOPE_COLUMNS + (", raw" if payloads else "")
    rows = conn.execute(
        f"SELECT {columns} FROM envelopes e WHERE {where} ORDER BY e.id {order} LIMIT ?",
        [*params, limit + 1],
    ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    items = item_summaries(conn, [row["id"] for row in rows])
    return {
        "envelopes": [envelope_json(row, payloads=payloads, items=items[row["id"]]) for row in rows],
        "next_cursor": rows[-1]["id"] if more and rows else None,
    }


def get_envelope(conn: sqlite3.Connection, envelope_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        f"SELECT {ENVELOPE_COLUMNS}, raw FROM envelopes WHERE id = ? AND envelope_id = ?",
        (rowid_of(envelope_id), envelope_id),
    ).fetchone()
    if row is None:
        return None
    return envelope_json(row, payloads=True, items=item_summaries(conn, [row["id"]])[row["id"]])


def get_raw(conn: sqlite3.Connection, envelope_id: str) -> bytes | None:
    row = conn.execute(
        "SELECT raw FROM envelopes WHERE id = ? AND envelope_id = ?", (rowid_of(envelope_id), envelope_id)
    ).fetchone()
    return bytes(row["raw"]) if row else None


ITEM_INDEX_COLUMNS = (
    "envelope_rowid, idx, type, event_id, trace_id, name, op, status, level, release, environment,"
    " server_name, summary, problem"
)


def item_summary(
    *,
    type: str,
    event_id: str | None,
    trace_id: str | None,
    name: str | None,
    op: str | None,
    status: str | None,
    level: str | None,
    release: str | None,
    environment: str | None,
    server_name: str | None,
    summary: dict[str, Any] | None,
    problem: str | None,
) -> dict[str, Any]:
    """What the lists and the live stream say of one item, without its payload."""
    return {
        "type": type,
        "title": _title(type, name, summary),
        "name": name,
        "op": op,
        "status": status,
        "level": level,
        "event_id": event_id,
        "trace_id": trace_id,
        "release": release,
        "environment": environment,
        "server_name": server_name,
        "problem": problem,
    }


def _title(kind: str, name: str | None, summary: dict[str, Any] | None) -> str | None:
    """A one-line headline: the exception or message of an event, the name of anything else."""
    if kind == "event" and summary:
        exceptions = summary.get("exceptions") or []
        if exceptions:
            last = exceptions[-1]
            return ": ".join(part for part in (last.get("type"), last.get("value")) if part) or None
        if summary.get("message"):
            return str(summary["message"])
    return name


def item_summaries(conn: sqlite3.Connection, rowids: list[int]) -> dict[int, list[dict[str, Any]]]:
    grouped: dict[int, list[dict[str, Any]]] = {rowid: [] for rowid in rowids}
    for start in range(0, len(rowids), 500):
        chunk = rowids[start : start + 500]
        rows = conn.execute(
            f"SELECT {ITEM_INDEX_COLUMNS} FROM items WHERE envelope_rowid IN ({','.join('?' * len(chunk))})"
            " ORDER BY envelope_rowid, idx",
            chunk,
        )
        for row in rows:
            grouped[row["envelope_rowid"]].append(
                item_summary(
                    type=row["type"],
                    event_id=row["event_id"],
                    trace_id=row["trace_id"],
                    name=row["name"],
                    op=row["op"],
                    status=row["status"],
                    level=row["level"],
                    release=row["release"],
                    environment=row["environment"],
                    server_name=row["server_name"],
                    summary=orjson.loads(row["summary"]) if row["summary"] else None,
                    problem=row["problem"],
                )
            )
    return grouped


def envelope_json(row: sqlite3.Row, *, payloads: bool, items: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """An envelope as the inspection API shows it: metadata, headers, each item's index
    entry and, with `payloads`, its header and decoded payload."""
    result: dict[str, Any] = {
        "id": row["envelope_id"],
        "seq": row["id"],
        "received_at": iso(row["received_at"]),
        "received_ts": row["received_at"],
        "project": {"id": row["project_id"], "name": row["project"]},
        "event_id": row["event_id"],
        "trace_id": row["trace_id"],
        "header": orjson.loads(row["header"]),
        "item_types": row["item_types"].split(",") if row["item_types"] else [],
        "request": {
            "endpoint": row["endpoint"],
            "path": row["path"],
            "public_key": row["public_key"],
            "auth": row["auth_form"],
            "sdk_client": row["sdk_client"],
            "content_encoding": row["content_encoding"],
            "compressed_size": row["compressed_size"],
            "raw_size": row["raw_size"],
            "user_agent": row["user_agent"],
            "remote_addr": row["remote_addr"],
        },
    }
    summaries = items or []
    if payloads:
        envelope = parse_envelope(bytes(row["raw"]))
        result["items"] = [
            {
                **(summaries[i] if i < len(summaries) else {}),
                "header": item.header,
                "payload": decode_payload(item.payload),
            }
            for i, item in enumerate(envelope.items)
        ]
    else:
        result["items"] = summaries
    return result


def decode_payload(payload: bytes) -> Any:
    """JSON when it parses, text when it is UTF-8, base64 otherwise (marked as such)."""
    if not payload:
        return None
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError:
        pass
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return {"base64": base64.b64encode(payload).decode()}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def list_trace_ids(
    conn: sqlite3.Connection, *, limit: int, cursor: int | None, project: str | None, since: float | None
) -> tuple[list[str], int | None]:
    """Trace ids, most recently active first; the cursor is the last envelope seq seen."""
    clauses = ["i.trace_id IS NOT NULL", "i.type IN ('transaction', 'span', 'event')"]
    params: list[Any] = []
    if project:
        clauses.append("e.project = ?" if not project.isdigit() else "e.project_id = ?")
        params.append(int(project) if project.isdigit() else project)
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


ERROR_COLUMNS = (
    "i.event_id, i.trace_id, i.span_id, i.name, i.level, i.release, i.environment, i.server_name, i.summary,"
    " i.end_ts, i.payload_offset, i.payload_length, e.envelope_id, e.project, e.received_at, e.id AS seq"
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
) -> dict[str, Any]:
    clauses = ["i.type = 'event'"]
    params: list[Any] = []
    if project:
        clauses.append("e.project = ?" if not project.isdigit() else "e.project_id = ?")
        params.append(int(project) if project.isdigit() else project)
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
    return {"errors": [error_summary(row) for row in rows], "next_cursor": rows[-1]["seq"] if more and rows else None}


def error_summary(row: sqlite3.Row) -> dict[str, Any]:
    summary = orjson.loads(row["summary"]) if row["summary"] else {}
    exceptions = summary.get("exceptions") or []
    last = exceptions[-1] if exceptions else {}
    return {
        "event_id": row["event_id"],
        "envelope_id": row["envelope_id"],
        "project": row["project"],
        "received_at": iso(row["received_at"]),
        "timestamp": row["end_ts"],
        "level": row["level"],
        "type": last.get("type"),
        "value": last.get("value"),
        "message": summary.get("message"),
        "transaction": row["name"],
        "trace_id": row["trace_id"],
        "span_id": row["span_id"],
        "release": row["release"],
        "environment": row["environment"],
        "server_name": row["server_name"],
        "tags": summary.get("tags") or {},
    }


def get_error(conn: sqlite3.Connection, event_id: str) -> dict[str, Any] | None:
    row = conn.execute(
        f"SELECT {ERROR_COLUMNS}, e.raw FROM items i JOIN envelopes e ON e.id = i.envelope_rowid"
        " WHERE i.type = 'event' AND i.event_id = ? ORDER BY e.id DESC LIMIT 1",
        (event_id,),
    ).fetchone()
    if row is None:
        return None
    result = error_summary(row)
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
    result.update(
        exceptions=values if isinstance(values, list) else [],
        breadcrumbs=breadcrumbs if isinstance(breadcrumbs, list) else [],
        contexts=event.get("contexts") if isinstance(event.get("contexts"), dict) else {},
        request=event.get("request") if isinstance(event.get("request"), dict) else None,
        tags=event.get("tags") or result["tags"],
        sdk=event.get("sdk"),
        event=event,
    )
    return result


def count_items(conn: sqlite3.Connection, flt: EnvelopeFilter, *, item_type: str | None) -> int:
    """How many stored items match (the blocking wait polls this)."""
    where, params = flt.where()
    type_clause = "i.type = ?" if item_type else "1"
    row = conn.execute(
        f"SELECT count(*) FROM items i JOIN envelopes e ON e.id = i.envelope_rowid WHERE {type_clause} AND {where}",
        [*([item_type] if item_type else []), *params],
    ).fetchone()
    return int(row[0])


def stats(conn: sqlite3.Connection) -> dict[str, Any]:
    by_type = {row[0]: row[1] for row in conn.execute("SELECT type, count(*) FROM items GROUP BY type ORDER BY 2 DESC")}
    by_project = {
        row["project"]: {
            "project_id": row["project_id"],
            "envelopes": row["n"],
            "raw_bytes": row["raw"],
            "compressed_bytes": row["compressed"],
        }
        for row in conn.execute(
            "SELECT project, project_id, count(*) AS n, sum(raw_size) AS raw, sum(compressed_size) AS compressed"
            " FROM envelopes GROUP BY project, project_id ORDER BY project"
        )
    }
    by_service: dict[str, dict[str, int]] = {}
    for row in conn.execute(
        "SELECT coalesce(server_name, '(none)'), type, count(*) FROM items"
        " WHERE type IN ('event', 'transaction') GROUP BY 1, 2"
    ):
        by_service.setdefault(row[0], {})[row[1]] = row[2]
    encodings = {row[0]: row[1] for row in conn.execute("SELECT content_encoding, count(*) FROM envelopes GROUP BY 1")}
    refused: dict[str, Any] = {"total": 0, "injected": 0, "by_reason": {}, "by_status": {}}
    for row in conn.execute("SELECT reason, status, injected, count(*) FROM refusals GROUP BY 1, 2, 3"):
        refused["total"] += row[3]
        refused["injected"] += row[3] if row[2] else 0
        refused["by_reason"][row[0]] = refused["by_reason"].get(row[0], 0) + row[3]
        refused["by_status"][str(row[1])] = refused["by_status"].get(str(row[1]), 0) + row[3]
    reports: dict[str, Any] = {"total": 0, "by_reason": {}, "by_category": {}, "by_project": {}}
    for row in conn.execute(
        "SELECT e.project, json_extract(d.value, '$.reason'), json_extract(d.value, '$.category'),"
        " sum(json_extract(d.value, '$.quantity'))"
        " FROM items i JOIN envelopes e ON e.id = i.envelope_rowid, json_each(i.summary, '$.discarded_events') d"
        " WHERE i.type = 'client_report' AND json_valid(i.summary) GROUP BY 1, 2, 3"
    ):
        project, reason, category, quantity = row[0], str(row[1]), str(row[2]), int(row[3] or 0)
        reports["total"] += quantity
        reports["by_reason"][reason] = reports["by_reason"].get(reason, 0) + quantity
        reports["by_category"][category] = reports["by_category"].get(category, 0) + quantity
        per = reports["by_project"].setdefault(project, [])
        per.append({"reason": reason, "category": category, "quantity": quantity})
    problems = conn.execute("SELECT count(*) FROM items WHERE problem IS NOT NULL").fetchone()[0]
    return {
        "items_by_type": by_type,
        "by_project": by_project,
        "by_service": by_service,
        "content_encodings": encodings,
        "refused": refused,
        "client_reports": reports,
        "items_with_problems": problems,
    }


def list_refusals(conn: sqlite3.Connection, *, limit: int) -> list[dict[str, Any]]:
    rows = conn.execute("SELECT * FROM refusals ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    return [{**dict(row), "received_at": iso(row["received_at"]), "injected": bool(row["injected"])} for row in rows]


def expectation_rows(
    conn: sqlite3.Connection, *, since: float | None, until: float | None, trace_id: str | None, limit: int | None
) -> list[sqlite3.Row]:
    clauses: list[str] = ["1"]
    params: list[Any] = []
    if since is not None:
        clauses.append("started_at >= ?")
        params.append(since)
    if until is not None:
        clauses.append("started_at < ?")
        params.append(until)
    if trace_id:
        clauses.append("trace_id = ?")
        params.append(trace_id)
    sql = f"SELECT * FROM expectations WHERE {' AND '.join(clauses)} ORDER BY started_at"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return conn.execute(sql, params).fetchall()
