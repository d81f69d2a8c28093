"""One row per log, metric and streamed span of the container items, so they can be found by
trace id, span id, service, level and name; and the read-side queries over those rows.

A row holds what filters and lists need; the attributes stay in the envelope's verbatim bytes
and are read back only for the rows a page shows.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson

from relay_mock.models import Bucket, LogRecord, MetricPoint, MetricSeries, SeriesPoint
from relay_mock.store.records import EnvelopeRecord

BODY_CHARS = 2000
MAX_SERIES_ROWS = 200_000


@dataclass(slots=True)
class RecordPage:
    """A page of logs or metric points, newest first; `next_cursor` reads the next one."""

    records: list[LogRecord | MetricPoint]
    next_cursor: str | None


# The writer inserts `rows(envelopes)` with this, in the transaction that stores the envelopes.
INSERT = (
    "INSERT INTO telemetry (envelope_rowid, idx, n, kind, ts, trace_id, span_id, project, name, level,"
    " metric_type, value, unit, body) VALUES "
)


def rows(envelopes: list[EnvelopeRecord]) -> list[tuple[Any, ...]]:
    return [
        (
            envelope.rowid,
            item.idx,
            record.n,
            record.kind,
            record.timestamp,
            record.trace_id,
            record.span_id,
            envelope.project,
            record.name,
            record.level,
            record.metric_type,
            record.value,
            record.unit,
            record.body[:BODY_CHARS] if record.body is not None else None,
        )
        for envelope in envelopes
        for item in envelope.items
        for record in item.records or ()
    ]


# -- reading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TelemetryFilter:
    kind: str  # log | metric | span
    project: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    level: str | None = None
    name: str | None = None
    metric_type: str | None = None
    query: str | None = None  # a substring of a log's body
    since: float | None = None
    until: float | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = ["t.kind = ?"]
        params: list[Any] = [self.kind]
        for column, value in (
            ("t.project", self.project),
            ("t.trace_id", self.trace_id),
            ("t.span_id", self.span_id),
            ("t.level", self.level),
            ("t.name", self.name),
            ("t.metric_type", self.metric_type),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        if self.query:
            clauses.append("t.body LIKE ? ESCAPE '\\'")
            escaped = self.query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params.append(f"%{escaped}%")
        if self.since is not None:
            clauses.append("t.ts >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append("t.ts < ?")
            params.append(self.until)
        return " AND ".join(clauses), params


# A cursor is "<envelope rowid>.<item idx>.<n>": newest first, pages never repeat nor skip.
def encode_cursor(row: sqlite3.Row) -> str:
    return f"{row['envelope_rowid']}.{row['idx']}.{row['n']}"


def decode_cursor(cursor: str) -> tuple[int, int, int] | None:
    parts = cursor.split(".")
    if len(parts) != 3 or not all(part.isascii() and part.isdigit() and len(part) < 19 for part in parts):
        return None
    rowid, idx, n = (int(part) for part in parts)
    return rowid, idx, n


def list_records(
    conn: sqlite3.Connection,
    flt: TelemetryFilter,
    *,
    limit: int,
    cursor: tuple[int, int, int] | None = None,
    attributes: bool = True,
) -> RecordPage:
    """Newest first (arrival order), `limit` per page, each with its attributes."""
    where, params = flt.where()
    if cursor is not None:
        where += " AND (t.envelope_rowid, t.idx, t.n) < (?, ?, ?)"
        params += list(cursor)
    rows = conn.execute(
        "SELECT t.*, e.envelope_id, e.received_at FROM telemetry t JOIN envelopes e ON e.id = t.envelope_rowid"
        f" WHERE {where} ORDER BY t.envelope_rowid DESC, t.idx DESC, t.n DESC LIMIT ?",
        [*params, limit + 1],
    ).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    found = record_attributes(conn, rows) if attributes else {}
    return RecordPage(
        records=[_record(row, found.get((row["envelope_rowid"], row["idx"], row["n"]))) for row in rows],
        next_cursor=encode_cursor(rows[-1]) if more and rows else None,
    )


def record_attributes(conn: sqlite3.Connection, rows: list[sqlite3.Row]) -> dict[tuple[int, int, int], Any]:
    """The attributes of each row, read from its container's verbatim payload (one read per container)."""
    wanted: dict[tuple[int, int], set[int]] = defaultdict(set)
    for row in rows:
        wanted[(row["envelope_rowid"], row["idx"])].add(row["n"])
    found: dict[tuple[int, int, int], Any] = {}
    for (rowid, idx), positions in wanted.items():
        item = conn.execute(
            "SELECT substr(e.raw, i.payload_offset + 1, i.payload_length) AS payload FROM items i"
            " JOIN envelopes e ON e.id = i.envelope_rowid WHERE i.envelope_rowid = ? AND i.idx = ?",
            (rowid, idx),
        ).fetchone()
        if item is None:
            continue
        try:
            records = orjson.loads(bytes(item["payload"]))["items"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            continue
        for n in positions:
            if n < len(records) and isinstance(records[n], dict):
                found[(rowid, idx, n)] = _plain_attributes(records[n].get("attributes"))
    return found


def _plain_attributes(attributes: Any) -> dict[str, Any]:
    """{"name": {"value": v, "type": t}} → {"name": v}: what a reader wants to see."""
    if not isinstance(attributes, dict):
        return {}
    return {key: value.get("value") if isinstance(value, dict) else value for key, value in attributes.items()}


def _record(row: sqlite3.Row, attributes: dict[str, Any] | None) -> LogRecord | MetricPoint:
    record: dict[str, Any] = {
        "id": encode_cursor(row),
        "kind": row["kind"],
        "timestamp": row["ts"],
        "received_at": row["received_at"],
        "service": row["project"],
        "trace_id": row["trace_id"],
        "span_id": row["span_id"],
        "envelope_id": row["envelope_id"],
    }
    if row["kind"] == "log":
        record.update(level=row["level"], body=row["body"], template=row["name"])
    else:
        record.update(name=row["name"], type=row["metric_type"], value=row["value"], unit=row["unit"])
    if attributes is not None:
        record["attributes"] = attributes
    # Built from keyword arguments, so a field left out stays unset and out of the JSON.
    return LogRecord(**record) if row["kind"] == "log" else MetricPoint(**record)


def metric_series(
    conn: sqlite3.Connection, flt: TelemetryFilter, *, bucket_s: float, max_points: int
) -> list[MetricSeries]:
    """Per metric (name, type, unit, service): its raw points (oldest first, at most
    `max_points`, the newest kept) and aggregates per time bucket of `bucket_s` seconds."""
    where, params = flt.where()
    # The newest MAX_SERIES_ROWS points, oldest first.
    found = conn.execute(
        f"SELECT t.ts, t.name, t.metric_type, t.unit, t.project, t.value, t.trace_id, t.span_id"
        f" FROM telemetry t WHERE {where} ORDER BY t.ts DESC LIMIT ?",
        [*params, MAX_SERIES_ROWS],
    ).fetchall()
    found.reverse()
    series: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in found:
        key = (row["name"], row["metric_type"], row["unit"], row["project"])
        entry = series.get(key)
        if entry is None:
            entry = series[key] = {
                "name": row["name"],
                "type": row["metric_type"],
                "unit": row["unit"],
                "service": row["project"],
                "count": 0,
                "points": [],
                "buckets": {},
            }
        entry["count"] += 1
        entry["points"].append(
            {"t": row["ts"], "v": row["value"], "trace_id": row["trace_id"], "span_id": row["span_id"]}
        )
        start = (row["ts"] // bucket_s) * bucket_s
        bucket = entry["buckets"].get(start)
        if bucket is None:
            bucket = entry["buckets"][start] = {"start": start, "count": 0, "sum": 0.0, "min": None, "max": None}
        bucket["count"] += 1
        bucket["sum"] += row["value"]
        bucket["min"] = row["value"] if bucket["min"] is None else min(bucket["min"], row["value"])
        bucket["max"] = row["value"] if bucket["max"] is None else max(bucket["max"], row["value"])
        bucket["last"] = row["value"]
    result = []
    for entry in series.values():
        buckets = [Bucket(**bucket, avg=bucket["sum"] / bucket["count"]) for bucket in entry.pop("buckets").values()]
        points = [SeriesPoint(**point) for point in entry.pop("points")]
        result.append(
            MetricSeries(**entry, points=points[-max_points:], truncated=len(points) > max_points, buckets=buckets)
        )
    return sorted(result, key=lambda s: (s.name or "", s.service or ""))
