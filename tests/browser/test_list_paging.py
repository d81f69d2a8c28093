"""The paged lists (lists.js pagedTable): "Load more" reads the next page with the API's cursor,
numeric for errors, a string for logs, and disappears on the last page."""

from __future__ import annotations

import time

import httpx
from playwright.sync_api import Page, expect

from tests.relay_http.wire import DOWNSTREAM, envelope, item, new_id, post_envelope, send_event
from tests.support.relay_server import RelayMock

expect.set_options(timeout=10_000)


def test_the_errors_list_pages_back_with_load_more(own_relay: RelayMock, page: Page) -> None:
    with httpx.Client(timeout=10) as http:
        for n in range(53):  # a page is 50
            send_event(http, own_relay.url, logentry={"message": f"failure {n}"})
    page.goto(f"{own_relay.url}/#/errors")
    rows = page.locator("table.errors tbody tr")
    more = page.get_by_role("button", name="Load more")
    expect(rows).to_have_count(50)
    more.click()
    expect(rows).to_have_count(53)
    expect(more).to_be_hidden()
    expect(rows.last).to_contain_text("failure 0")  # newest first: the first one sent is last


def test_the_logs_list_pages_back_with_load_more(own_relay: RelayMock, page: Page) -> None:
    logs = [
        {"timestamp": time.time() + n / 1000, "level": "info", "body": f"line {n}", "trace_id": new_id()}
        for n in range(130)
    ]
    with httpx.Client(timeout=10) as http:
        container = envelope(item("log", {"version": 2, "items": logs}, item_count=len(logs)))
        assert post_envelope(http, own_relay.url, container, project=DOWNSTREAM).status_code == 200
    page.goto(f"{own_relay.url}/#/logs")
    rows = page.locator("table.logs tbody tr")
    more = page.get_by_role("button", name="Load more")
    expect(rows).to_have_count(100)  # a page is 100
    more.click()
    expect(rows).to_have_count(130)
    expect(more).to_be_hidden()
