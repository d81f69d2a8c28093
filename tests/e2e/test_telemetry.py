"""Logs and metrics cross the hop with their trace, on the running stack, in both trace
lifecycles: after one order with a trace id the caller chose, relay-mock holds logs and metrics
of both services carrying that trace id and span ids of that trace, and the trace page shows
them under their spans (in Chromium)."""

from __future__ import annotations

import time
from typing import Any, TypeVar

import httpx
import pytest
from playwright.sync_api import expect

from relay_mock.client import RelayError
from relay_mock.models import LogRecord, MetricPoint
from tests.support.chromium import chromium_page
from tests.support.relay import StackRelay
from tests.support.stack import Stack
from tests.support.traffic import new_trace, place_order

pytestmark = pytest.mark.stack

SERVICES = {"api", "downstream"}

R = TypeVar("R", LogRecord, MetricPoint)


def _flush(stack: Stack) -> None:
    for url in (stack.api_url, stack.downstream_url):
        httpx.post(f"{url}/test-flush", timeout=15).raise_for_status()


def _poll(fetch: Any, *, what: str, deadline_s: float = 30) -> Any:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        found = fetch()
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError(f"no {what} within {deadline_s}s")


def _span_ids(node: dict[str, Any]) -> set[str]:
    found = {node["span_id"]} if node.get("span_id") else set()
    for child in node.get("children", []):
        found |= _span_ids(child)
    return found


def _of_both(found: list[R]) -> list[R] | None:
    return found if {r.service for r in found} >= SERVICES else None


def _trace_of_both(relay: StackRelay, trace_id: str) -> dict[str, Any] | None:
    try:
        found = relay.trace(trace_id)
    except RelayError as exc:
        if exc.status == 404:  # nothing of it arrived yet
            return None
        raise
    return found.model_dump(exclude_unset=True) if set(found.services) >= SERVICES else None


def test_one_order_leaves_logs_and_metrics_of_both_services_in_its_trace(
    stack: Stack, relay: StackRelay, lifecycle: str
) -> None:
    trace_id, trace = new_trace()

    response = place_order(stack, trace)
    assert response.status_code == 201, response.text
    _flush(stack)

    logs = _poll(
        lambda: _of_both(relay.client.logs(trace_id=trace_id, limit=1000).logs), what="logs from both services"
    )
    metrics = _poll(
        lambda: _of_both(relay.client.metrics(trace_id=trace_id, limit=1000).points),
        what="metrics from both services",
    )
    tree = _poll(lambda: _trace_of_both(relay, trace_id), what="the trace of both services")
    spans = set().union(*(_span_ids(root) for root in tree["roots"]))

    bodies = {(log.service, log.body or "") for log in logs}
    assert ("api", f"order {response.json()['id']} placed: 1 x SKU-1") in bodies, bodies
    assert any(service == "downstream" and body.startswith("stock reserved: 1 x SKU-1") for service, body in bodies)
    assert {(m.service, m.name) for m in metrics} >= {
        ("api", "orders"),
        ("api", "reservation.latency"),
        ("downstream", "stock.level"),
    }
    for record in logs + metrics:
        assert record.span_id in spans, (record, lifecycle)

    _assert_trace_page_shows_them(stack.relay_url, trace_id, len(logs) + len(metrics))


def _assert_trace_page_shows_them(relay: str, trace_id: str, count: int) -> None:
    with chromium_page(relay) as page:
        page.goto(f"/#/traces/{trace_id}")
        lines = page.locator(".wf-telemetry .tel-line")
        expect(lines).to_have_count(count, timeout=15_000)
        for service in SERVICES:
            expect(lines.filter(has=page.locator(".chip", has_text=service)).first).to_be_visible()
        expect(page.locator(".tel-line.unplaced")).to_have_count(0)
