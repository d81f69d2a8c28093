"""A strict parser for Sentry's envelope format.

    {envelope header JSON}\n
    {item header JSON}\n
    payload\n                  (items repeat; the final newline is optional)

An item header with `length` makes the payload exactly that many bytes; without it the
payload runs to the next newline or the end. Empty headers (`{}`), zero items and
zero-length payloads are legal; unknown item types are kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import orjson

from relay_mock.protocol.ingest_errors import MalformedEnvelope, PayloadTooLarge

# Far above any SDK's envelope (Relay itself refuses more than 100 sessions), and low enough
# that a small compressed body of millions of empty items cannot pin the CPU and memory.
MAX_ITEMS = 10_000


@dataclass(slots=True)
class Item:
    header: dict[str, Any]
    payload: bytes
    # Where the payload sits in the envelope's bytes, so it can be served without re-parsing.
    offset: int = 0

    @property
    def type(self) -> str:
        return str(self.header.get("type"))


@dataclass(slots=True)
class Envelope:
    header: dict[str, Any]
    items: list[Item] = field(default_factory=list)

    @property
    def event_id(self) -> str | None:
        value = self.header.get("event_id")
        return value if isinstance(value, str) else None


def parse_envelope(data: bytes) -> Envelope:
    """Parse `data` or raise MalformedEnvelope naming what is wrong and where."""
    if not data.strip():
        raise MalformedEnvelope("empty envelope", "the body holds no envelope header")
    size = len(data)
    # Trailing newlines after the last item are allowed. Found once: testing the rest of the
    # data at each item made an envelope of many items starting with "\r" quadratic.
    content_end = len(data.rstrip(b"\r\n"))
    header, pos = _read_header(data, 0, "envelope header")
    check_storable(header, "envelope header")
    _check_envelope_header(header)
    items: list[Item] = []
    while pos < content_end:
        index = len(items)
        if index == MAX_ITEMS:
            raise PayloadTooLarge(
                f"envelope has more than {MAX_ITEMS} items",
                f"relay-mock indexes at most {MAX_ITEMS} items per envelope",
                reason="too_many_items",
            )
        item_header, pos = _read_header(data, pos, f"item {index} header")
        item_type = item_header.get("type")
        if not isinstance(item_type, str) or not item_type:
            raise MalformedEnvelope(f"item {index} has no type", 'an item header needs a non-empty "type" string')
        length = item_header.get("length")
        if length is None:
            end = data.find(b"\n", pos)
            end = size if end < 0 else end
            items.append(Item(item_header, data[pos:end], pos))
            pos = end + 1
            continue
        if not isinstance(length, int) or isinstance(length, bool) or length < 0:
            raise MalformedEnvelope(
                f"item {index} has an invalid length", f"length must be a non-negative integer, got {length!r}"
            )
        end = pos + length
        if end > size:
            raise MalformedEnvelope(
                f"item {index} is truncated",
                f"its header declares {length} bytes but only {size - pos} remain",
            )
        items.append(Item(item_header, data[pos:end], pos))
        pos = end
        if pos < size:
            if data[pos] != 0x0A:
                raise MalformedEnvelope(
                    f"item {index} payload is not followed by a newline",
                    f"byte {pos} is {data[pos : pos + 1]!r}; the payload is longer than its declared length {length}",
                )
            pos += 1
    return Envelope(header, items)


def envelope_from_event(event: dict[str, Any]) -> bytes:
    """Wrap a legacy /store/ event into the envelope the SDK would have sent."""
    check_storable(event, "store body")
    event_id = event.get("event_id")
    payload = orjson.dumps(event)
    item_type = "transaction" if event.get("type") == "transaction" else "event"
    header: dict[str, Any] = {"event_id": event_id} if isinstance(event_id, str) else {}
    return (
        b"\n".join([orjson.dumps(header), orjson.dumps({"type": item_type, "length": len(payload)}), payload]) + b"\n"
    )


def check_storable(value: Any, what: str) -> None:
    """Refuse JSON that parses but cannot be written back. orjson reads up to 1,024 levels of
    nesting and writes at most 254; a value past that used to reach the store writer and fail
    there, answered 503 ("retry"), so the SDK would send it again forever."""
    try:
        orjson.dumps(value)
    except TypeError:
        raise MalformedEnvelope(f"{what} nests too deeply", "more than 254 levels of arrays and objects") from None


def _read_header(data: bytes, pos: int, what: str) -> tuple[dict[str, Any], int]:
    end = data.find(b"\n", pos)
    end = len(data) if end < 0 else end
    line = data[pos:end]
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise MalformedEnvelope(f"{what} is not valid JSON", f"at byte {pos}: {exc}") from None
    if not isinstance(value, dict):
        raise MalformedEnvelope(f"{what} is not a JSON object", f"at byte {pos}: got {type(value).__name__}")
    return value, min(end + 1, len(data))


def _check_envelope_header(header: dict[str, Any]) -> None:
    event_id = header.get("event_id")
    if event_id is not None:
        if not isinstance(event_id, str):
            raise MalformedEnvelope("envelope header event_id is not a string", f"got {event_id!r}")
        try:
            uuid.UUID(event_id)
        except ValueError:
            raise MalformedEnvelope("envelope header event_id is not a UUID", f"got {event_id[:64]!r}") from None
    for name in ("dsn", "sent_at"):
        if name in header and not isinstance(header[name], str):
            raise MalformedEnvelope(f"envelope header {name} is not a string", f"got {header[name]!r}")
    trace = header.get("trace")
    if trace is not None and not isinstance(trace, dict):
        raise MalformedEnvelope("envelope header trace is not an object", f"got {type(trace).__name__}")
