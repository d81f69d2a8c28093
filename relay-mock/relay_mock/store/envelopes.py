"""Envelopes as the inspection API and the live feed show them: metadata, headers, each item's
index entry and, when asked, every item's header and decoded payload."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from relay_mock.protocol.envelope import parse_envelope
from relay_mock.store.filters import EnvelopeFilter
from relay_mock.store.records import rowid_of
from relay_mock.store.values import decode_payload, iso

ENVELOPE_COLUMNS = (
    "id, envelope_id, received_at, project_id, project, public_key, auth_form, sdk_client, endpoint, path,"
    " content_encoding, compressed_size, raw_size, user_agent, remote_addr, event_id, trace_id, header, item_types"
)


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


def count_items(conn: sqlite3.Connection, flt: EnvelopeFilter, *, item_type: str | None) -> int:
    """How many stored items match (the blocking wait polls this)."""
    where, params = flt.where()
    type_clause = "i.type = ?" if item_type else "1"
    row = conn.execute(
        f"SELECT count(*) FROM items i JOIN envelopes e ON e.id = i.envelope_rowid WHERE {type_clause} AND {where}",
        [*([item_type] if item_type else []), *params],
    ).fetchone()
    return int(row[0])
