"""Debian's Chromium for Playwright (which cannot download browsers here); CHROMIUM_PATH overrides it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

# Without the background-networking flags Chromium keeps trying to reach the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


DEBIAN_CHROMIUM = Path("/usr/bin/chromium")


def chromium_path() -> Path:
    """CHROMIUM_PATH; else Debian's Chromium; else a browser Playwright installed itself
    (`playwright install chromium`, where its download site is reachable). The first that exists."""
    if os.environ.get("CHROMIUM_PATH"):
        return Path(os.environ["CHROMIUM_PATH"])
    if DEBIAN_CHROMIUM.is_file():
        return DEBIAN_CHROMIUM
    return next(iter(_playwrights_own()), DEBIAN_CHROMIUM)


def _playwrights_own() -> list[Path]:
    root = Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")
    patterns = ("chromium-*/chrome-linux*/chrome", "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium")
    return sorted((path for pattern in patterns for path in root.glob(pattern) if path.is_file()), reverse=True)


def missing_chromium() -> str | None:
    """Why Chromium cannot be used, or None."""
    path = chromium_path()
    if path.is_file():
        return None
    return (
        f"no Chromium at {path}: install Debian's (apt-get install -y chromium), or Playwright's own"
        " (.venv/bin/playwright install chromium), or point CHROMIUM_PATH at one"
    )


@contextmanager
def chromium_page(base_url: str) -> Iterator[Page]:
    """A page of a headless Chromium at `base_url`, for one look at relay-mock's UI from a test
    that has no `page` fixture (the stack tests); fails the test, saying how, without a Chromium."""
    missing = missing_chromium()
    if missing:
        pytest.fail(missing, pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            yield browser.new_page(base_url=base_url)
        finally:
            browser.close()
