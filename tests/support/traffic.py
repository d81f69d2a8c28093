"""Requests the stack tests send: each starts a trace of its own (a fresh trace id in
`sentry-trace`) so a test finds exactly its data in relay-mock."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import httpx

from tests.support.relay import StackRelay
from tests.support.stack import Stack

FAULT_HEADER = "x-sandbox-fault"


def new_trace() -> tuple[str, dict[str, str]]:
    """A fresh trace id and the `sentry-trace` header that makes the service continue it."""
    trace_id = secrets.token_hex(16)
    return trace_id, {"sentry-trace": f"{trace_id}-{secrets.token_hex(8)}-1"}


def place_order(stack: Stack, trace: dict[str, str], *, sku: str = "SKU-1", fault: str | None = None) -> httpx.Response:
    headers = {**trace, **({FAULT_HEADER: fault} if fault else {})}
    return httpx.post(
        f"{stack.api_url}/orders", json={"sku": sku, "quantity": 1, "customer": "tests"}, headers=headers, timeout=15
    )


def settle(stack: Stack, relay: StackRelay) -> None:
    """Wait until everything both stack services sent so far is stored in relay-mock.

    A barrier instead of a sleep: each SDK sends its envelopes in order from one queue,
    so once a later order's transactions from both services are in, every envelope
    the services produced before it is in too.
    """
    trace_id, trace = new_trace()
    response = place_order(stack, trace)
    assert response.status_code == 201, response.text
    relay.wait_for_transactions(trace_id, {"api", "downstream"})


def spans_by_op(transaction: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for span in transaction.get("spans", []):
        found.setdefault(span.get("op", ""), []).append(span)
    return found


# uvloop's timers have millisecond resolution and may fire a little early: an injected
# sleep of N ms can measure a fraction of a millisecond short of N.
TIMER_SLACK_S = 0.005


def duration_s(span: dict[str, Any]) -> float:
    return _seconds(span["timestamp"]) - _seconds(span["start_timestamp"])


def _seconds(value: float | str) -> float:
    """A span timestamp: the SDK sends ISO 8601 text; the protocol also allows epoch seconds."""
    if isinstance(value, int | float):
        return float(value)
    return datetime.fromisoformat(value).timestamp()
