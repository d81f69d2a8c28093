"""A timestamp of the protocol read as seconds since the epoch: ingest indexes items by it and the
verifier reads every span's with it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def timestamp(value: Any) -> float | None:
    """Seconds since the epoch from the protocol's two forms: a number or an RFC 3339 string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        return None
    # datetime's C parser reads "...T17:56:53.123456Z" in about 0.5 µs: three times faster
    # than slicing the string in Python, and this runs for every span the verifier reads.
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:  # the protocol's naive timestamps are UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
