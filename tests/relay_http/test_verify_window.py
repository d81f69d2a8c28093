"""The verifier's window is about when traces happened, not when their envelopes arrived:
an SDK that drains its queue after an outage delivers old traces late, and those belong to
the run that produced them."""

from __future__ import annotations

import json
import secrets
import time

import httpx

from tests.relay_http.inspector import Inspector
from tests.support.projects import API
from tests.support.relay_server import RelayMock

API_AUTH = {"x-sentry-auth": f"Sentry sentry_key={API.key}, sentry_version=7"}


def _transaction(started: float) -> tuple[str, bytes]:
    trace_id = secrets.token_hex(16)
    event = {
        "type": "transaction",
        "event_id": secrets.token_hex(16),
        "transaction": "/orders",
        "start_timestamp": started,
        "timestamp": started + 0.05,
        "contexts": {"trace": {"trace_id": trace_id, "span_id": secrets.token_hex(8), "op": "http.server"}},
        "spans": [],
    }
    payload = json.dumps(event).encode()
    header = json.dumps({"event_id": event["event_id"], "trace": {"trace_id": trace_id}}).encode()
    item = json.dumps({"type": "transaction", "length": len(payload)}).encode()
    return trace_id, b"\n".join([header, item, payload]) + b"\n"


def _checked(relay: RelayMock, since: float) -> list[str]:
    with Inspector(relay.url) as inspector:
        report = inspector.verify(since=since)
    return list(report["trace_ids"])


def test_a_trace_that_arrives_late_belongs_to_the_window_it_happened_in(relay: RelayMock) -> None:
    now = time.time()
    old_trace, old = _transaction(now - 120)  # happened two minutes ago, delivered only now
    new_trace, new = _transaction(now)
    for body in (old, new):
        httpx.post(f"{relay.url}/api/1/envelope/", content=body, headers=API_AUTH).raise_for_status()

    recent = _checked(relay, since=now - 10)
    earlier = _checked(relay, since=now - 180)

    assert new_trace in recent and old_trace not in recent
    assert {new_trace, old_trace} <= set(earlier)
