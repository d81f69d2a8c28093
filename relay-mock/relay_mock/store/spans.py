"""Spans read back out of a stored transaction's payload, when a trace view or the verifier
needs them. Ingest does not index spans: keeping them only in the verbatim payload keeps
writes small, and readers that need them parse just the payloads they look at."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

MAX_SPANS = 1000
DESCRIPTION_CHARS = 200


def transaction_spans(event: dict[str, Any]) -> list[dict[str, Any]]:
    spans = event.get("spans")
    if not isinstance(spans, list):
        return []
    return [_span(span) for span in spans[:MAX_SPANS] if isinstance(span, dict)]


def _span(span: dict[str, Any]) -> dict[str, Any]:
    description = span.get("description")
    return {
        "span_id": _text(span.get("span_id")),
        "parent_span_id": _text(span.get("parent_span_id")),
        "op": _text(span.get("op")),
        "description": description[:DESCRIPTION_CHARS] if isinstance(description, str) else None,
        "start": timestamp(span.get("start_timestamp")),
        "end": timestamp(span.get("timestamp")),
        "status": _text(span.get("status")),
    }


# Epoch seconds of "YYYY-MM-DDTHH:MM" prefixes: the spans of a trace share a handful of
# minutes, so most timestamps cost a dict lookup and a float() instead of a datetime parse.
_MINUTES: dict[str, float] = {}
_MINUTES_MAX = 100_000


def timestamp(value: Any) -> float | None:
    """Seconds since the epoch from the protocol's two forms: a number or an RFC 3339 string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        return None
    if len(value) >= 20 and value[-1] == "Z" and value[10] == "T" and value[16] == ":" and value[17:19].isdigit():
        minute = _MINUTES.get(value[:16])
        if minute is None:
            try:
                minute = datetime.fromisoformat(value[:16] + ":00+00:00").timestamp()
            except ValueError:
                return None
            if len(_MINUTES) < _MINUTES_MAX:
                _MINUTES[value[:16]] = minute
        try:
            return minute + float(value[17:-1])
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:  # the protocol's naive timestamps are UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)
