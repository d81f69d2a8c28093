"""Envelopes as the inspection API and the live feed show them: metadata, headers, each item's
index entry and, when asked, every item's header and decoded payload.

One builder (`envelope_model`) serves both: the live feed hands it the record the writer just
committed, the lists hand it the same record read back from the store."""

from __future__ import annotations

import sqlite3
from typing import Any

import orjson

from relay_mock.models import Envelope, EnvelopePage, ForwardState
from relay_mock.protocol.envelope import parse_envelope
from relay_mock.store import outbox
from relay_mock.store.error_events import headline
from relay_mock.store.filters import EnvelopeFilter, rows_in
from relay_mock.store.index import ItemIndex
from relay_mock.store.records import EnvelopeRecord, rowid_of
from relay_mock.store.values import decode_payload, iso

# Named as EnvelopeRecord's and ItemIndex's fields, so a row reads back into the record it was.
ENVELOPE_COLUMNS = (
    "id AS rowid, envelope_id, received_at, project_id, project, public_key, auth_form, sdk_client, endpoint, path,"
    " content_encoding, compressed_size, raw_size, user_agent, remote_addr, event_id, trace_id, header"
)
ITEM_INDEX_COLUMNS = (
    "envelope_rowid, idx, type, payload_offset AS offset, payload_length AS length, event_id, trace_id, name, op,"
    " status, level, release, environment, server_name, summary, problem"
)


def list_envelopes(
    conn: sqlite3.Connection,
    flt: EnvelopeFilter,
    *,
    limit: int,
    cursor: int | None,
    newest_first: bool,
    payloads: bool,
) -> EnvelopePage:
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
    records = _records(conn, rows, payloads=payloads)
    return EnvelopePage(
        envelopes=[envelope_model(record, raw_size=row["raw_size"], payloads=payloads) for record, row in records],
        next_cursor=rows[-1]["rowid"] if more and rows else None,
    )


def get_envelope(conn: sqlite3.Connection, envelope_id: str) -> Envelope | None:
    row = conn.execute(
        f"SELECT {ENVELOPE_COLUMNS}, raw FROM envelopes WHERE id = ? AND envelope_id = ?",
        (rowid_of(envelope_id), envelope_id),
    ).fetchone()
    if row is None:
        return None
    [(record, _)] = _records(conn, [row], payloads=True)
    envelope = envelope_model(record, raw_size=row["raw_size"], payloads=True)
    forward = outbox.state_of(conn, record.rowid)
    if forward is not None:
        envelope.forward = ForwardState(
            state=forward["state"],
            attempts=forward["attempts"],
            possibly_duplicated=bool(forward["uncertain"]),
            status=forward["status"],
            detail=forward["detail"],
            next_attempt_at=iso(forward["next_at"]) if forward["state"] == "pending" else None,
            updated_at=iso(forward["updated_at"]),
        )
    return envelope


def get_download(conn: sqlite3.Connection, envelope_id: str) -> tuple[bytes, str] | None:
    """The bytes a client sent, decompressed, with their media type: an envelope's own bytes, or
    an OTLP request's body (the last item of the envelope relay-mock wrote for it)."""
    row = conn.execute(
        "SELECT raw, endpoint FROM envelopes WHERE id = ? AND envelope_id = ?", (rowid_of(envelope_id), envelope_id)
    ).fetchone()
    if row is None:
        return None
    raw = bytes(row["raw"])
    if row["endpoint"].startswith("otlp_"):
        request = parse_envelope(raw).items[-1]
        return request.payload, str(request.header.get("content_type", "application/octet-stream"))
    return raw, "application/x-sentry-envelope"


def envelope_model(record: EnvelopeRecord, *, raw_size: int, payloads: bool) -> Envelope:
    """An envelope as the inspection API and the live feed show it: metadata, headers, each
    item's index entry and, with `payloads`, its header and decoded payload.

    Render it with `model_dump(mode="json", exclude_unset=True)`: an item without its payload
    leaves `header` and `payload` unset, and the JSON leaves them out."""
    items: list[dict[str, Any]] = [item_fields(entry) for entry in record.items]
    if payloads:
        parsed = parse_envelope(record.raw).items
        items = [
            {**(items[i] if i < len(items) else {}), "header": item.header, "payload": decode_payload(item.payload)}
            for i, item in enumerate(parsed)
        ]
    # One validation of the whole tree: a third faster than building each nested model, which
    # counts on the live feed (once per committed envelope while anyone watches).
    return Envelope.model_validate(
        {
            "id": record.envelope_id,
            "seq": record.rowid,
            "received_at": iso(record.received_at),
            "received_ts": record.received_at,
            "project": {"id": record.project_id, "name": record.project},
            "event_id": record.event_id,
            "trace_id": record.trace_id,
            "header": record.header,
            "item_types": [entry.type for entry in record.items],
            "request": {
                "endpoint": record.endpoint,
                "path": record.path,
                "public_key": record.public_key,
                "auth": record.auth_form,
                "sdk_client": record.sdk_client,
                "content_encoding": record.content_encoding,
                "compressed_size": record.compressed_size,
                "raw_size": raw_size,
                "user_agent": record.user_agent,
                "remote_addr": record.remote_addr,
            },
            "items": items,
        }
    )


def item_fields(entry: ItemIndex) -> dict[str, Any]:
    """What the lists and the live feed say of one item, without its payload (an `Item`'s fields)."""
    return {
        "type": entry.type,
        "title": _title(entry),
        "name": entry.name,
        "op": entry.op,
        "status": entry.status,
        "level": entry.level,
        "event_id": entry.event_id,
        "trace_id": entry.trace_id,
        "release": entry.release,
        "environment": entry.environment,
        "server_name": entry.server_name,
        "problem": entry.problem,
    }


def _title(entry: ItemIndex) -> str | None:
    """A one-line headline: the exception or message of an event, the name of anything else."""
    if entry.type == "event" and entry.summary:
        said = headline(entry.summary)
        if said.exception:
            return ": ".join(part for part in (said.type, said.value) if part) or None
        if said.message:
            return said.message
    return entry.name


def _records(
    conn: sqlite3.Connection, rows: list[sqlite3.Row], *, payloads: bool
) -> list[tuple[EnvelopeRecord, sqlite3.Row]]:
    """The stored envelopes as the records the writer committed, with their index entries (the
    columns are named as the records' fields)."""
    records = []
    for row in rows:
        fields = dict(row)
        del fields["raw_size"]
        header, raw = fields.pop("header"), fields.pop("raw", None)
        record = EnvelopeRecord(**fields, header=orjson.loads(header), raw=bytes(raw) if payloads else b"", items=[])
        records.append((record, row))
    by_rowid = {record.rowid: record for record, _ in records}
    for item in rows_in(
        conn,
        f"SELECT {ITEM_INDEX_COLUMNS} FROM items WHERE envelope_rowid IN ({{marks}}) ORDER BY envelope_rowid, idx",
        list(by_rowid),
    ):
        fields = dict(item)
        envelope = by_rowid[fields.pop("envelope_rowid")]
        summary = fields.pop("summary")
        envelope.items.append(ItemIndex(**fields, summary=orjson.loads(summary) if summary else None))
    return records


def records_after(conn: sqlite3.Connection, rowid: int, *, limit: int) -> list[EnvelopeRecord]:
    """The stored envelopes after row `rowid`, oldest first, as the records the writer committed
    (raw bytes included): what a reader of Spotlight's `/stream` missed or asked to replay."""
    rows = conn.execute(
        f"SELECT {ENVELOPE_COLUMNS}, raw FROM envelopes WHERE id > ? ORDER BY id LIMIT ?", (rowid, limit)
    ).fetchall()
    return [record for record, _ in _records(conn, rows, payloads=True)]


def rowid_before_newest(conn: sqlite3.Connection, count: int, *, upto: int) -> int:
    """The row id just before the newest `count` envelopes up to row `upto` (0 when fewer are stored)."""
    row = conn.execute(
        "SELECT id FROM envelopes WHERE id <= ? ORDER BY id DESC LIMIT 1 OFFSET ?", (upto, count)
    ).fetchone()
    return int(row[0]) if row else 0


def newest_with_items(
    conn: sqlite3.Connection, item_types: tuple[str, ...], *, since: float | None, limit: int
) -> list[EnvelopeRecord]:
    """The newest envelopes holding an item of one of these types (received at or after `since`),
    newest first, raw bytes included: what Spotlight's MCP tools read."""
    marks = ",".join("?" * len(item_types))
    rows = conn.execute(
        f"SELECT {ENVELOPE_COLUMNS}, raw FROM envelopes e WHERE e.received_at >= ? AND EXISTS"
        f" (SELECT 1 FROM items i WHERE i.envelope_rowid = e.id AND i.type IN ({marks})) ORDER BY e.id DESC LIMIT ?",
        (since if since is not None else 0.0, *item_types, limit),
    ).fetchall()
    return [record for record, _ in _records(conn, rows, payloads=True)]


def trace_id_with_prefix(conn: sqlite3.Connection, prefix: str) -> str | None:
    """The newest stored trace id starting with `prefix` (lowercase hex)."""
    row = conn.execute(
        "SELECT trace_id FROM items WHERE trace_id >= ? AND trace_id < ? ORDER BY envelope_rowid DESC LIMIT 1",
        (prefix, prefix + "g"),
    ).fetchone()
    return str(row[0]) if row else None


def newest_rowid(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT coalesce(max(id), 0) FROM envelopes").fetchone()
    return int(row[0])


def count_items(conn: sqlite3.Connection, flt: EnvelopeFilter, *, item_type: str | None) -> int:
    """How many stored items match (the blocking wait polls this)."""
    where, params = flt.where()
    type_clause = "i.type = ?" if item_type else "1"
    row = conn.execute(
        f"SELECT count(*) FROM items i JOIN envelopes e ON e.id = i.envelope_rowid WHERE {type_clause} AND {where}",
        [*([item_type] if item_type else []), *params],
    ).fetchone()
    return int(row[0])
