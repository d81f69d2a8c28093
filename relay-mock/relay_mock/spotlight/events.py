"""Envelopes as Spotlight's clients read them from `GET /stream`.

Each stored envelope becomes one Server-Sent Event: `event:` the content type, `id:` the
envelope's id (relay-mock's own, which orders envelopes as they were stored, so it also serves
as `Last-Event-ID`), `data:` JSON of `[header, [[item header, payload], ...]]` as Spotlight's
sidecar makes it (@spotlightjs/spotlight 4.11.8, parser/processEnvelope.js): JSON payloads
parsed, with the item's type set on them as `type`; attachment-like items (and any payload that
is not JSON) as `{"data": "<text or base64>"}`. The header gets `__spotlight_envelope_id` as
Spotlight's does, and `__relay_mock` (project, project id, when it was stored), which
Spotlight's clients ignore and `relay-mock tail` filters on.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson

from relay_mock.protocol.envelope import Item, parse_envelope
from relay_mock.store.records import EnvelopeRecord

CONTENT_TYPE = "application/x-sentry-envelope"
# Spotlight's RAW_TYPES: items whose payload it never parses as JSON.
RAW_TYPES = frozenset({"attachment", "replay_video", "statsd"})
TEXT_CONTENT_TYPES = frozenset(
    {"text/plain", "text/css", "text/csv", "text/html", "text/javascript", "text/json", "text/x-json",
     "application/json", "application/ld+json"}
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One stored envelope, ready to send: its position (row id), id, and the `data` JSON."""

    rowid: int
    envelope_id: str
    data: bytes

    def sse(self, event_name: bytes) -> bytes:
        return b"id: %s\nevent: %s\ndata: %s\n\n" % (self.envelope_id.encode(), event_name, self.data)


def stream_event(record: EnvelopeRecord) -> StreamEvent:
    """A committed or stored envelope (its raw bytes in hand) as its event on `/stream`."""
    header: dict[str, Any] = {
        **record.header,
        "__spotlight_envelope_id": record.envelope_id,
        "__relay_mock": {
            "project": record.project,
            "project_id": record.project_id,
            "received_at": record.received_at,
            "endpoint": record.endpoint,
        },
    }
    items = [[item.header, _payload(item)] for item in parse_envelope(record.raw).items]
    return StreamEvent(record.rowid, record.envelope_id, orjson.dumps([header, items]))


def _payload(item: Item) -> Any:
    if item.type not in RAW_TYPES:
        try:
            parsed = orjson.loads(item.payload)
        except orjson.JSONDecodeError:
            parsed = None
        if isinstance(parsed, dict):
            parsed["type"] = item.type
            return parsed
        if parsed is not None:
            return parsed
    content_type = item.header.get("content_type")
    if item.type == "statsd" and not content_type:
        content_type = "text/plain"
    if content_type in TEXT_CONTENT_TYPES:
        try:
            return {"data": item.payload.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    return {"data": base64.b64encode(item.payload).decode("ascii")}
