"""The "What Sentry stores" tab and the Leaks page in a real headless Chromium, over events the
real sentry-sdk sent: what Relay's own normalization and scrubbing would store, rule by rule."""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk
from playwright.sync_api import Page, expect

from relay_mock.client import RelayClient
from tests.relay_http.test_relay_view import CARD, send_card_and_url_transaction
from tests.relay_http.wire import API, new_id
from tests.support.polling import poll
from tests.support.sentry_client import shut_down_sentry

expect.set_options(timeout=10_000)


@pytest.fixture
def sdk(relay_url: str) -> Iterator[None]:
    sentry_sdk.init(dsn=API.dsn(relay_url), traces_sample_rate=1.0, default_integrations=False)
    try:
        yield
    finally:
        shut_down_sentry()


def envelope_with(relay_url: str, item_type: str, marker: str) -> str:
    def find() -> str | None:
        for envelope in relay.envelopes(type=item_type, project="api").envelopes:
            payloads: list[Any] = [item.payload for item in envelope.items if item.type == item_type]
            if any((p.get("tags") or {}).get("marker") == marker for p in payloads):
                return envelope.id
        return None

    with RelayClient(relay_url, timeout=10) as relay:
        return poll(find, deadline_s=20, what=f"the {item_type} marked {marker}")


def test_the_tab_shows_the_card_number_filtered_by_relays_rule(page: Page, relay_url: str, sdk: None) -> None:
    marker = new_id()
    send_card_and_url_transaction(marker)
    envelope_id = envelope_with(relay_url, "event", marker)

    page.goto(f"/#/envelopes/{envelope_id}")
    item = page.locator("section.item")
    expect(item.locator(".payload pre.json")).to_contain_text(CARD)  # as sent
    item.get_by_role("tab", name="What Sentry stores").click()

    view = item.locator(".relay-view")
    expect(view.locator(".verdict")).to_have_attribute("data-verdict", "ok")
    expect(view.locator('.relay-changes tr[data-path="extra.payment_card"]')).to_contain_text("@creditcard:filter")
    stored = view.locator('.json.annotated .changed[data-path="extra.payment_card"]')
    expect(stored).to_have_text('"[Filtered]"')
    expect(stored).to_have_attribute("title", "scrubbing: @creditcard:filter")
    expect(view.locator(".side-by-side")).to_contain_text(CARD)  # the sent side, beside it
    expect(view.locator(".relay-suggestions summary")).to_contain_text("Selector suggestions")


def test_the_tab_shows_a_url_transaction_name_sanitized(page: Page, relay_url: str, sdk: None) -> None:
    marker = new_id()
    send_card_and_url_transaction(marker)
    envelope_id = envelope_with(relay_url, "transaction", marker)

    page.goto(f"/#/envelopes/{envelope_id}?relay=transaction")

    view = page.locator("section.item .relay-view")
    expect(view.locator('.json.annotated .changed[data-path="transaction"]')).to_have_text('"/items/*"')
    expect(view.locator('.relay-changes tr[data-path="transaction"]')).to_contain_text("/items/123")


def test_the_leaks_page_lists_a_secret_that_survives_and_links_to_it(page: Page, relay_url: str, sdk: None) -> None:
    marker = new_id()
    # A key in a well-known format under a name no scrubber looks for: Relay keeps it.
    key = "sk_live_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))
    with sentry_sdk.new_scope() as scope:
        scope.set_extra("partner_reference", key)
        scope.set_tag("marker", marker)
        sentry_sdk.capture_message(f"partner call {marker}")
    sentry_sdk.flush(timeout=10)
    envelope_id = envelope_with(relay_url, "event", marker)

    page.goto("/#/leaks")
    row = page.locator("table.leaks tbody tr", has_text="extra.partner_reference").filter(
        has=page.locator(f'a[href*="{envelope_id}"]')
    )
    poll_until_listed(page, row)
    expect(row).to_contain_text("api_key")
    expect(row).to_contain_text("sk_…")
    row.get_by_role("link").click()
    expect(page.locator("section.item .relay-view .relay-leaks")).to_contain_text("extra.partner_reference")


def poll_until_listed(page: Page, row: Any) -> None:
    """The verdict is computed in the background: reload the page until the row is there."""

    def listed() -> bool | None:
        if row.count():
            return True
        page.reload()
        page.locator(".page-head h1").wait_for()
        return None

    poll(listed, deadline_s=20, what="the leak on the Leaks page", interval_s=0.3)


def test_the_stats_page_counts_relays_verdicts_per_project(page: Page, relay_url: str, sdk: None) -> None:
    send_card_and_url_transaction(new_id())

    page.goto("/#/stats")

    row = page.locator("table.relay-stats tbody tr[data-project='api']")
    expect(row).to_be_visible()
    expect(row.locator("td[data-count='ok']")).not_to_have_text("0")
    expect(row.locator("td[data-count='scrubbed_values']")).not_to_have_text("0")
