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
            clauses.append("(e.trace_id = ? OR e.id IN (SELECT envelope_rowid FROM items WHERE trace_id = ?))")
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

    async def run(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run `query(connection, *args, **kwargs)` in a worker thread."""
        return await asyncio.to_thread(lambda: query(self.connection(), *args, **kwargs))

    # -- envelopes ------------------------------------------------------------------

    def list_envelopes(
        self,
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
        return {
            "envelopes": [envelope_json(row, payloads=payloads) for row in rows],
            "next_cursor": rows[-1]["id"] if more and rows else None,
        }

    def get_envelope(self, conn: sqlite3.Connection, envelope_id: str) -> dict[str, Any] | None:
        row = conn.execute(
            f"SELECT {ENVELOPE_COLUMNS}, raw FROM envelopes WHERE envelope_id = ?",
            (envelope_id,),
        ).fetchone()
        return envelope_json(row, payloads=True) if row else None

    def get_raw(self, conn: sqlite3.Connection, envelope_id: str) -> bytes | None:
        row = conn.execute("SELECT raw FROM envelopes WHERE envelope_id = ?", (envelope_id,)).fetchone()
        return bytes(row["raw"]) if row else None


def envelope_json(row: sqlite3.Row, *, payloads: bool) -> dict[str, Any]:
    """An envelope as the inspection API shows it: metadata, headers and decoded payloads."""
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
    if payloads:
        envelope = parse_envelope(bytes(row["raw"]))
        result["items"] = [{"header": item.header, "payload": decode_payload(item.payload)} for item in envelope.items]
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
