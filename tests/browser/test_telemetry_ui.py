"""The Logs and Metrics pages, and logs and metrics under their spans in the trace waterfall, in a
real headless Chromium over what the real sentry-sdk sent."""

from __future__ import annotations

import time
from typing import Any

import httpx
from playwright.sync_api import Page, expect

from relay_mock.client import RelayClient
from tests.relay_http.sdk import run_sdk
from tests.relay_http.wire import API, DOWNSTREAM, envelope, item, new_id, post_envelope
from tests.support.polling import poll
from tests.support.relay_server import RelayMock

expect.set_options(timeout=10_000)


def _emit(relay: RelayMock) -> dict[str, Any]:
    """The SDK's telemetry scenario: a transaction with two logs and three metrics, and a log outside."""
    sent = run_sdk(API.dsn(relay.url), "telemetry")
    with RelayClient(relay.url, timeout=10) as client:
        return poll(
            lambda: sent if len(client.logs(trace_id=sent["trace_id"]).logs) >= 2 else None,
            deadline_s=20,
            what="the SDK's logs",
        )


def _downstream_log(relay: RelayMock, trace_id: str, body: str, level: str = "error") -> None:
    log = {"timestamp": time.time(), "level": level, "body": body, "trace_id": trace_id, "span_id": new_id()[:16]}
    with httpx.Client(timeout=10) as http:
        container = envelope(item("log", {"version": 2, "items": [log]}, item_count=1))
        assert post_envelope(http, relay.url, container, project=DOWNSTREAM).status_code == 200


def test_the_logs_page_shows_levels_in_colour_and_links_each_line_to_its_trace(
    own_relay: RelayMock, page: Page
) -> None:
    sent = _emit(own_relay)
    page.goto(f"{own_relay.url}/#/logs")

    rows = page.locator("table.logs tbody tr")
    warn = rows.filter(has_text="stock short for SKU-9")
    info = rows.filter(has_text="order 7 placed")
    expect(warn).to_have_attribute("data-level", "warn")
    expect(info).to_have_attribute("data-level", "info")
    warn_colour = warn.locator(".log-body").evaluate("el => getComputedStyle(el).color")
    info_colour = info.locator(".log-body").evaluate("el => getComputedStyle(el).color")
    assert warn_colour != info_colour
    expect(rows.filter(has_text="outside any span").locator("td").last).to_have_text("none")

    info.locator("a.trace-link").click()
    expect(page).to_have_url(f"{own_relay.url}/#/traces/{sent['trace_id']}")


def test_the_logs_page_filters_and_shows_new_logs_live(own_relay: RelayMock, page: Page) -> None:
    trace_id = new_id()
    _downstream_log(own_relay, trace_id, "first line")
    page.goto(f"{own_relay.url}/#/logs?service=downstream&level=error")
    rows = page.locator("table.logs tbody tr")
    expect(rows).to_have_count(1)
    expect(page.locator(".live")).to_have_attribute("data-state", "connected")

    _downstream_log(own_relay, trace_id, "second line")
    _downstream_log(own_relay, trace_id, "only a warning", level="warn")

    expect(rows).to_have_count(2)
    expect(rows.first).to_contain_text("second line")  # newest first
    page.locator("select[name=level]").select_option("warn")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("only a warning")


def test_the_metrics_page_charts_each_metric_over_time(own_relay: RelayMock, page: Page) -> None:
    _emit(own_relay)
    _emit(own_relay)
    page.goto(f"{own_relay.url}/#/metrics")

    panels = page.locator("section.metric-panel")
    expect(panels).to_have_count(3)
    gauge = page.locator('section.metric-panel[data-metric="stock.level"]')
    expect(gauge).to_contain_text("gauge")
    expect(gauge).to_contain_text("2 points")
    expect(gauge.locator("svg.chart polyline.series")).to_have_count(1)
    assert gauge.locator("svg.chart circle.point").count() >= 1
    latency = page.locator('section.metric-panel[data-metric="reservation.latency"]')
    expect(latency).to_contain_text("last 12.5 millisecond")

    page.locator("select[name=type]").select_option("counter")
    expect(panels).to_have_count(1)
    expect(panels.first).to_have_attribute("data-metric", "orders")


def test_a_traces_logs_and_metrics_hang_under_the_span_that_emitted_them(own_relay: RelayMock, page: Page) -> None:
    sent = _emit(own_relay)
    _downstream_log(own_relay, sent["trace_id"], "a span nobody sent")
    page.goto(f"{own_relay.url}/#/traces/{sent['trace_id']}")

    emitter = page.locator(".wf-node", has=page.locator(f':scope > .wf-row[data-span-id="{sent["span_id"]}"]'))
    under = emitter.locator(":scope > .wf-telemetry .tel-line")
    expect(under.filter(has_text="order 7 placed")).to_have_count(1)
    expect(under.filter(has_text="stock.level")).to_have_count(1)
    expect(under).to_have_count(5)  # two logs, three metrics
    listed = page.locator("section.panel", has=page.get_by_role("heading", name="Logs and metrics (6)"))
    expect(listed.locator(".tel-line.unplaced")).to_have_count(1)
    expect(listed.locator(".tel-line.unplaced")).to_contain_text("a span nobody sent")
    expect(listed.locator(".tel-line.unplaced")).to_contain_text("span not in trace")
