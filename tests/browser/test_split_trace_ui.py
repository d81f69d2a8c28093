"""A trace split at the Sentry/OpenTelemetry boundary in the web UI (real headless Chromium):
each half's page names the propagation-format break and links to the other half."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from relay_mock.client import RelayClient
from tests.support.split_trace import send_mid_hop_split

expect.set_options(timeout=10_000)


def test_each_half_of_a_split_trace_links_to_the_other(page: Page, relay_url: str) -> None:
    split = send_mid_hop_split(relay_url)
    with RelayClient(relay_url) as relay:
        relay.wait("transaction", count=2, timeout=15, trace_id=split.caller)

    page.goto(f"/#/traces/{split.caller}")

    expect(page.locator(".trace-summary .badge.bad").first).to_have_text("failed")
    expect(page.locator(".verification-panel li").filter(has_text="linkage / propagation_format")).to_contain_text(
        "sent sentry-trace and baggage (no traceparent); playground continued none of it"
    )
    link = page.locator(".broken-panel li a.other-trace")
    expect(link).to_have_text(f"other trace {split.callee}")
    call = page.locator('.wf-row[data-kind="span"]', has_text="GET http://playground:8002/stock/sku-1")
    expect(call).to_have_count(1)

    link.click()

    expect(page).to_have_url(re.compile(f"#/traces/{split.callee}$"))
    root = page.locator(".wf-node.broken", has=page.locator(':scope > .wf-row[data-kind="transaction"]'))
    expect(root.locator(":scope > .wf-notes")).to_contain_text(f"playground did not continue trace {split.caller}")
    back = page.locator(".broken-panel li a.other-trace")
    expect(back).to_have_text(f"other trace {split.caller}")
    back.click()
    expect(page).to_have_url(re.compile(f"#/traces/{split.caller}$"))
