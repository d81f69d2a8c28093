"""One item as Relay would store it: recomputed on read through Relay's normalization and
scrubbing, with the changes and the leaks, or the stored `failed` verdict."""

from __future__ import annotations

import sqlite3
from typing import Any

from relay_mock.relay_view.compute import EVENT_TYPES, ItemContext, compute, suggestions
from relay_mock.relay_view.scrubbing import ProjectScrubbing, default_scrubbing
from relay_mock.store.relay_views import NOT_COVERED, item_row


class NotFound(Exception):
    pass


def item_view(
    conn: sqlite3.Connection, envelope_id: str, index: int, scrubbing: dict[int, ProjectScrubbing]
) -> dict[str, Any]:
    """What Relay would store for item `index` (0-based) of an envelope, and why each value changed."""
    item = item_row(conn, envelope_id, index)
    if item is None:
        raise NotFound(f"no item {index} in envelope {envelope_id}")
    if item.type not in EVENT_TYPES:
        raise NotFound(f"item {index} is a {item.type}: {NOT_COVERED}")
    project_scrubbing = scrubbing.get(item.project_id, default_scrubbing())
    base = {"type": item.type, "project": {"id": item.project_id, "name": item.project}}
    if item.verdict == "failed":
        # Never recomputed on read: it already ran over its budget or took its process down.
        return {**base, **_empty("failed", item.detail), "settings": project_scrubbing.settings}
    context = ItemContext(item.project_id, item.received_at, item.remote_addr, item.user_agent, item.sdk_client)
    view = compute(bytes(item.payload), context, project_scrubbing)
    return {
        **base,
        "verdict": view.verdict,
        "detail": view.detail,
        "normalized": view.normalized,
        "stored": view.stored,
        "meta": view.meta,
        "errors": view.errors,
        "changes": view.changes,
        "leaks": view.leaks,
        "suggestions": suggestions(view),
        "settings": project_scrubbing.settings,
        "computed_in_background": item.verdict is not None,
        "duration_ms": view.duration_ms,
    }


def _empty(verdict: str, detail: str | None) -> dict[str, Any]:
    return {
        "verdict": verdict,
        "detail": detail,
        "normalized": None,
        "stored": None,
        "meta": {},
        "errors": [],
        "changes": [],
        "leaks": [],
        "suggestions": [],
    }
