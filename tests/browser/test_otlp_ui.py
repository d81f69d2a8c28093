"""OTLP spans in relay-mock's web UI (real Chromium): the waterfall badges them with the service
their resource names, and the envelope list marks the OTLP request beside envelopes."""

from __future__ import annotations

import time
import uuid

import httpx
import orjson
from playwright.sync_api import Page, expect

from tests.relay_http.wire import API
from tests.support.relay_server import RelayMock

expect.set_options(timeout=10_000)


def send_otlp_trace(relay_url: str) -> str:
    trace_id, now = uuid.uuid4().hex, time.time_ns()
    spans = [
        {
            "traceId": trace_id,
            "spanId": "a1a2a3a4a5a6a7a8",
            "name": "GET /stock/{sku}",
            "kind": 2,
            "startTimeUnixNano": str(now - 9_000_000),
            "endTimeUnixNano": str(now),
            "attributes": [{"key": "http.request.method", "value": {"stringValue": "GET"}}],
        },
        {
            "traceId": trace_id,
            "spanId": "b1b2b3b4b5b6b7b8",
            "parentSpanId": "a1a2a3a4a5a6a7a8",
            "name": "SELECT stock",
            "startTimeUnixNano": str(now - 8_000_000),
            "endTimeUnixNano": str(now - 1_000_000),
            "attributes": [{"key": "db.system.name", "value": {"stringValue": "postgresql"}}],
        },
    ]
    document = {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "catalog"}}]},
                "scopeSpans": [{"spans": spans}],
            }
        ]
    }
    response = httpx.post(
        f"{relay_url}/api/{API.id}/integration/otlp/v1/traces",
        content=orjson.dumps(document),
        headers={"content-type": "application/json", "x-sentry-auth": f"sentry sentry_key={API.key}"},
    )
    assert response.status_code == 200, response.text
    return trace_id


def test_otlp_spans_are_badged_with_their_service_in_the_waterfall(own_relay: RelayMock, page: Page) -> None:
    trace_id = send_otlp_trace(own_relay.url)

    page.goto(f"{own_relay.url}/#/traces/{trace_id}")

    rows = page.locator(".wf-row")
    expect(rows).to_have_count(2)
    badges = page.locator('.wf-row .badge.otlp[data-ingest="otlp"]')
    expect(badges).to_have_count(2)
    expect(badges.first).to_have_text("OTLP · catalog")
    expect(page.locator('.wf-row[data-kind="transaction"]')).to_contain_text("http.server")
    page.locator('.wf-row[data-kind="span"]').click()
    expect(page.locator(".wf-details:not([hidden])")).to_contain_text("resource service.name")


def test_an_otlp_request_is_marked_in_the_envelope_list(own_relay: RelayMock, page: Page) -> None:
    send_otlp_trace(own_relay.url)

    page.goto(f"{own_relay.url}/#/envelopes")

    expect(page.locator('.items-cell .badge.otlp[data-ingest="otlp"]')).to_have_text("OTLP traces · json")
    page.locator(".items-cell .badge.otlp").click()
    expect(page.get_by_role("link", name="Raw OTLP request")).to_be_visible()
