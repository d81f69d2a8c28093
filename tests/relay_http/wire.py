"""What goes over the wire to relay-mock when no SDK is involved: the sandbox's projects, envelopes
built by hand (with fresh ids, so each test finds exactly its own), and raw ingest requests."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import orjson

# The projects live in tests/support/projects.py; the tests of the wire import them from here too.
from tests.support.projects import API as API
from tests.support.projects import DOWNSTREAM as DOWNSTREAM
from tests.support.projects import PLAYGROUND as PLAYGROUND
from tests.support.projects import Project as Project


def new_id() -> str:
    return uuid.uuid4().hex


def event(**fields: Any) -> dict[str, Any]:
    """An error event with a fresh event id; `fields` override or add to it."""
    return {
        "event_id": new_id(),
        "timestamp": time.time(),
        "platform": "python",
        "level": "error",
        "logentry": {"message": "something broke"},
        **fields,
    }


def transaction(trace_id: str, name: str = "GET /health", **fields: Any) -> dict[str, Any]:
    now = time.time()
    return {
        "event_id": new_id(),
        "type": "transaction",
        "transaction": name,
        "start_timestamp": now - 0.05,
        "timestamp": now,
        "contexts": {"trace": {"trace_id": trace_id, "span_id": new_id()[:16], "op": "http.server"}},
        "spans": [],
        **fields,
    }


def item(item_type: str, payload: bytes | dict[str, Any], **header: Any) -> bytes:
    data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return orjson.dumps({"type": item_type, "length": len(data), **header}) + b"\n" + data


def envelope(*items: bytes, **header: Any) -> bytes:
    return b"\n".join([orjson.dumps(header), *items]) + b"\n"


def event_envelope(payload: dict[str, Any] | None = None) -> tuple[str, bytes]:
    """(event id, envelope) for one error event."""
    body = payload or event()
    return body["event_id"], envelope(item("event", body), event_id=body["event_id"])


def client_report(*discarded: tuple[str, str, int]) -> bytes:
    """A client_report envelope: (reason, category, quantity) per line of discarded events."""
    report = {
        "timestamp": time.time(),
        "discarded_events": [{"reason": r, "category": c, "quantity": q} for r, c, q in discarded],
    }
    return envelope(item("client_report", report))


def post_envelope(
    client: httpx.Client,
    relay_url: str,
    body: bytes,
    *,
    project: Project = API,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return client.post(
        project.envelope_url(relay_url),
        content=body,
        headers={**project.auth, "Content-Type": "application/x-sentry-envelope", **(headers or {})},
    )


def send_event(client: httpx.Client, relay_url: str, *, project: Project = API, **fields: Any) -> str:
    """Send one error event; returns its event id once relay-mock acknowledged it."""
    event_id, body = event_envelope(event(**fields))
    response = post_envelope(client, relay_url, body, project=project)
    assert response.status_code == 200, response.text
    assert response.json() == {"id": event_id}
    return event_id
