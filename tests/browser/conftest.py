"""Fixtures for the web UI tests: a relay-mock of their own, real SDK traffic in it, and
Debian's Chromium driven by Playwright (CHROMIUM_PATH overrides the browser)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.traffic import send_many, wait_for
from tests.support.chromium import CHROMIUM_ARGS, chromium_path, missing_chromium
from tests.support.relay_server import RelayMock


@pytest.fixture(scope="session")
def relay_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A relay-mock subprocess on a free port with an empty data directory, for the whole session."""
    relay = RelayMock(tmp_path_factory.mktemp("relay-data"))
    try:
        relay.start()
        yield relay.url
    finally:
        relay.stop()


@pytest.fixture
def own_relay(tmp_path: Path) -> Iterator[RelayMock]:
    """A relay-mock for one test, which may stop and restart it."""
    relay = RelayMock(tmp_path)
    try:
        relay.start()
        yield relay
    finally:
        relay.stop()


@pytest.fixture(scope="session")
def seeded(relay_url: str) -> dict[str, dict[str, Any]]:
    """What every view needs, sent once with the real SDK: a clean api → downstream trace,
    one whose downstream transaction hangs off a span the api never sent, an exception
    with a chained cause and breadcrumbs, and markup posing as names."""
    sent = send_many(
        relay_url,
        {
            "order": ["order"],
            "orphan": ["order", "--orphan", "--no-baggage"],
            "error": ["error"],
            "hostile": ["hostile"],
        },
    )
    # Transactions: 2 per order, 1 for the error, 1 hostile; events: the error, 2 hostile.
    wait_for(relay_url, "transaction", 6)
    wait_for(relay_url, "event", 3)
    return sent


# Module scope, not session: Playwright's sync API keeps an asyncio loop marked as running in
# this thread until it stops, and every asyncio test after it would fail to start its own.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    missing = missing_chromium()
    if missing:
        pytest.fail(missing, pytrace=False)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, relay_url: str) -> Iterator[Page]:
    """A fresh page on relay-mock's UI; a JavaScript exception fails the test that caused it."""
    context = browser.new_context(base_url=relay_url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    crashes: list[str] = []
    page.on("pageerror", lambda exc: crashes.append(str(exc)))
    yield page
    context.close()
    assert not crashes, f"the UI threw: {crashes}"
