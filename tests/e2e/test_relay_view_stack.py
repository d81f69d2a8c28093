"""On the running stack: relay-mock's image computes Relay's view of what the real services send,
and nothing that looks like a secret, sent to api in a request, survives into what Sentry would
store, from either service."""

from __future__ import annotations

import secrets
import string
from typing import Any

import httpx
import pytest

from relay_mock.models import ItemView
from tests.support.polling import poll
from tests.support.relay import StackRelay
from tests.support.stack import Stack
from tests.support.traffic import new_trace

pytestmark = pytest.mark.stack


def _alnum(n: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


def _computed(relay: StackRelay, envelopes: list[dict[str, Any]]) -> list[ItemView] | None:
    """Relay's view of every event and transaction, once the background worker stored each verdict."""
    views: list[ItemView] = []
    for envelope in envelopes:
        for index, item in enumerate(envelope["items"]):
            if item["header"].get("type") in ("event", "transaction"):
                views.append(relay.client.item_view(envelope["id"], index))
    return views if all(view.computed_in_background for view in views) else None


def test_secrets_sent_to_the_services_never_reach_what_sentry_stores(stack: Stack, relay: StackRelay) -> None:
    trace_id, trace = new_trace()
    response = httpx.post(
        f"{stack.api_url}/orders",
        params={"ref": "ghp_" + _alnum(36)},
        json={"sku": "SKU-1", "quantity": 1, "customer": "sk_live_" + _alnum(24)},
        headers={
            **trace,
            "X-Sandbox-Fault": "downstream:error",
            "Authorization": "Bearer " + _alnum(32),
            "X-Partner": "sk_live_" + _alnum(24),
        },
        timeout=15,
    )
    assert response.status_code == 502, response.text
    relay.wait_for_transactions(trace_id, {"api", "downstream"})
    relay.wait("event", count=2, trace_id=trace_id)
    envelopes = relay.envelopes(trace_id=trace_id)
    ids = {envelope["id"] for envelope in envelopes}

    views = poll(lambda: _computed(relay, envelopes), deadline_s=120, what="Relay's verdicts on the trace")
    leaks = relay.client.leaks(limit=10000)
    stats = relay.client.stats()

    assert {view.verdict for view in views} <= {"ok", "repaired"} and len(views) >= 4
    assert [item for item in leaks.items if item.envelope_id in ids] == []
    assert stats.relay is not None and {"api", "downstream"} <= set(stats.relay.by_project)
