"""What the store indexes of each item: ids, trace linkage, names and a compact summary.

Pure functions over a parsed envelope; item payloads stay verbatim in the envelope's bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from relay_mock.protocol.containers import TelemetryRecord, is_container, parse_container
from relay_mock.protocol.envelope import Envelope, Item
from relay_mock.protocol.ingest_errors import PayloadTooLarge
from relay_mock.protocol.timestamps import timestamp as _timestamp

JSON_ITEM_TYPES = frozenset({"event", "transaction", "feedback", "user_report", "security", "raw_security"})
MAX_SUMMARY_ENTRIES = 1000  # list entries kept in a summary (discarded events, aggregates, exceptions)
# JSON payload bytes parsed per envelope. Parsing costs up to ~30 bytes of memory and ~0.2 µs
# per payload byte (a payload of "[],[],..."), so this bounds an envelope's indexing work
# whatever it holds; payloads past the budget are stored verbatim, flagged and not indexed.
JSON_INDEX_BUDGET = 8 * 1024 * 1024


@dataclass(slots=True)
class ItemIndex:
    idx: int
    type: str
    offset: int
    length: int
    event_id: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    parent_span_id: str | None = None
    name: str | None = None
    op: str | None = None
    status: str | None = None
    release: str | None = None
    environment: str | None = None
    server_name: str | None = None
    level: str | None = None
    sdk_name: str | None = None
    sdk_version: str | None = None
    start_ts: float | None = None
    end_ts: float | None = None
    summary: dict[str, Any] | None = None
    problem: str | None = None
    # The logs, metrics or spans of a container item (protocol/containers.py), one row each.
    records: list[TelemetryRecord] | None = None


def index_envelope(
    envelope: Envelope, *, max_event_bytes: int, json_budget: int = JSON_INDEX_BUDGET
) -> list[ItemIndex]:
    budget = _JsonBudget(json_budget)
    entries = [_index_item(i, item, envelope, max_event_bytes, budget) for i, item in enumerate(envelope.items)]
    trace = envelope.header.get("trace")
    dsc_trace_id = trace.get("trace_id") if isinstance(trace, dict) else None
    if isinstance(dsc_trace_id, str):
        # Items with no trace context of their own (span containers, attachments, profile chunks)
        # belong to the envelope's trace. Events and transactions keep only what they carry:
        # a missing trace id there is a finding, not something to paper over.
        for entry in entries:
            if entry.trace_id is None and entry.type not in JSON_ITEM_TYPES:
                entry.trace_id = dsc_trace_id
    return entries


def envelope_trace_id(envelope: Envelope, items: list[ItemIndex]) -> str | None:
    trace = envelope.header.get("trace")
    trace_id = _dict(trace).get("trace_id")
    if isinstance(trace_id, str):
        return trace_id
    return next((i.trace_id for i in items if i.trace_id), None)


class _JsonBudget:
    def __init__(self, size: int) -> None:
        self.size = size
        self.left = size

    def spend(self, size: int) -> None:
        """Containers are parsed whole, or the envelope is refused: their records are checked."""
        if size > self.left:
            raise PayloadTooLarge(
                "envelope too large to index",
                f"its JSON payloads exceed relay-mock's {self.size}-byte budget per envelope",
                reason="too_large_to_index",
            )
        self.left -= size

    def loads(self, item: Item, entry: ItemIndex) -> Any:
        if not item.payload:
            return None
        if len(item.payload) > self.left:
            _flag(entry, f"not indexed: the envelope's JSON payloads exceed relay-mock's {self.size}-byte budget")
            return None
        self.left -= len(item.payload)
        try:
            return orjson.loads(item.payload)
        except orjson.JSONDecodeError as exc:
            _flag(entry, f"payload is not valid JSON: {exc}")
            return None


def _flag(entry: ItemIndex, problem: str) -> None:
    entry.problem = f"{entry.problem}; {problem}" if entry.problem else problem


def _index_item(idx: int, item: Item, envelope: Envelope, max_event_bytes: int, budget: _JsonBudget) -> ItemIndex:
    entry = ItemIndex(idx=idx, type=item.type, offset=item.offset, length=len(item.payload))
    kind = entry.type
    if kind in JSON_ITEM_TYPES:
        if len(item.payload) > max_event_bytes:
            entry.problem = f"{len(item.payload)} bytes exceed Relay's {max_event_bytes}-byte limit for {kind} items"
        payload = budget.loads(item, entry)
        if isinstance(payload, dict):
            _index_event(entry, payload, envelope)
        return entry
    if kind in ("client_report", "session", "sessions", "check_in", "profile_chunk", "profile", "attachment"):
        payload = budget.loads(item, entry) if kind != "attachment" else None
        if kind == "client_report" and isinstance(payload, dict):
            entry.summary = {
                "discarded_events": _list(payload.get("discarded_events"))[:MAX_SUMMARY_ENTRIES],
                "rate_limited_events": _list(payload.get("rate_limited_events"))[:MAX_SUMMARY_ENTRIES],
            }
            entry.start_ts = _timestamp(payload.get("timestamp"))
        elif kind == "session" and isinstance(payload, dict):
            attrs = _dict(payload.get("attrs"))
            entry.status = _str(payload.get("status"))
            entry.release, entry.environment = _str(attrs.get("release")), _str(attrs.get("environment"))
            entry.summary = {"sid": payload.get("sid"), "errors": payload.get("errors"), "init": payload.get("init")}
        elif kind == "sessions" and isinstance(payload, dict):
            attrs = _dict(payload.get("attrs"))
            entry.release, entry.environment = _str(attrs.get("release")), _str(attrs.get("environment"))
            entry.summary = {"aggregates": _list(payload.get("aggregates"))[:MAX_SUMMARY_ENTRIES]}
        elif kind == "check_in" and isinstance(payload, dict):
            entry.event_id = _str(payload.get("check_in_id"))
            entry.name, entry.status = _str(payload.get("monitor_slug")), _str(payload.get("status"))
            entry.release, entry.environment = _str(payload.get("release")), _str(payload.get("environment"))
            trace = (payload.get("contexts") or {}).get("trace") if isinstance(payload.get("contexts"), dict) else None
            if isinstance(trace, dict):
                entry.trace_id = _str(trace.get("trace_id"))
        elif kind in ("profile_chunk", "profile") and isinstance(payload, dict):
            entry.event_id = _str(payload.get("chunk_id") or payload.get("event_id"))
            entry.release, entry.environment = _str(payload.get("release")), _str(payload.get("environment"))
            entry.summary = {"profiler_id": payload.get("profiler_id"), "platform": payload.get("platform")}
        elif kind == "attachment":
            entry.name = _str(item.header.get("filename"))
            entry.summary = {
                "content_type": item.header.get("content_type"),
                "attachment_type": item.header.get("attachment_type"),
            }
        return entry
    if is_container(item):
        budget.spend(len(item.payload))
        entry.records = parse_container(idx, item)
        if item.type == "span" and entry.records:
            # When the spans happened: the verifier reads the traces of a time window.
            entry.start_ts = min(r.timestamp for r in entry.records)
            entry.end_ts = max(r.timestamp + (r.value or 0.0) / 1000 for r in entry.records)
        entry.summary = {"item_count": len(entry.records), "content_type": item.header.get("content_type")}
        return entry
    if "item_count" in item.header:
        entry.summary = {"item_count": item.header.get("item_count"), "content_type": item.header.get("content_type")}
    return entry


def _index_event(entry: ItemIndex, event: dict[str, Any], envelope: Envelope) -> None:
    entry.event_id = _str(event.get("event_id")) or envelope.event_id
    contexts = _dict(event.get("contexts"))
    trace = _dict(contexts.get("trace"))
    entry.trace_id = _str(trace.get("trace_id"))
    entry.span_id = _str(trace.get("span_id"))
    entry.parent_span_id = _str(trace.get("parent_span_id"))
    entry.op = _str(trace.get("op"))
    entry.status = _str(trace.get("status"))
    entry.name = _str(event.get("transaction"))
    entry.release = _str(event.get("release"))
    entry.environment = _str(event.get("environment"))
    entry.server_name = _str(event.get("server_name"))
    entry.level = _str(event.get("level")) or ("error" if entry.type == "event" else None)
    sdk = _dict(event.get("sdk"))
    entry.sdk_name, entry.sdk_version = _str(sdk.get("name")), _str(sdk.get("version"))
    entry.start_ts = _timestamp(event.get("start_timestamp"))
    entry.end_ts = _timestamp(event.get("timestamp"))
    tags = event.get("tags")
    if isinstance(tags, list):  # the protocol allows [[key, value], ...]
        tags = {str(pair[0]): pair[1] for pair in tags if isinstance(pair, list) and len(pair) == 2}
    if entry.type == "transaction":
        # Spans stay in the verbatim payload: readers that need them parse it (verify/span_facts.py).
        # Summarising every span here cost more than the rest of ingest together.
        return
    else:
        entry.summary = {
            "exceptions": [
                {"type": _str(e.get("type")), "value": _str(e.get("value"))}
                for e in _list(
                    (event.get("exception") or {}).get("values") if isinstance(event.get("exception"), dict) else None
                )[:MAX_SUMMARY_ENTRIES]
                if isinstance(e, dict)
            ],
            "message": _message(event),
            "tags": tags if isinstance(tags, dict) else {},
        }


def _message(event: dict[str, Any]) -> str | None:
    logentry = event.get("logentry")
    if isinstance(logentry, dict):
        return _str(logentry.get("formatted") or logentry.get("message"))
    message = event.get("message")
    if isinstance(message, dict):
        return _str(message.get("formatted") or message.get("message"))
    return _str(message)


def _str(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
