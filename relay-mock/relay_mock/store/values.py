"""How stored values are shown: instants as ISO 8601 (UTC), payloads as JSON, text or base64."""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import orjson


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
