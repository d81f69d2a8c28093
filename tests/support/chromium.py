"""The Chromium the browser tests drive through Playwright: CHROMIUM_PATH, else Debian's, else the one
`playwright install chromium` downloaded; `python -m tests.support.chromium` says which, or how to get one."""

from __future__ import annotations

import os
import sys
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


def _playwright_root() -> Path:
    return Path(os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or Path.home() / ".cache" / "ms-playwright")


def _playwrights_own() -> list[Path]:
    root = _playwright_root()
    # chrome-linux64 in Playwright 1.65 (this venv), chrome-linux in older ones; the newest build first.
    patterns = ("chromium-*/chrome-linux*/chrome", "chromium-*/chrome-mac*/Chromium.app/Contents/MacOS/Chromium")
    found = [path for pattern in patterns for path in root.glob(pattern) if path.is_file()]
    return sorted(found, key=_build, reverse=True)


def _build(path: Path) -> int:
    """The build number of Playwright's `chromium-<build>` folder the browser is in."""
    folder = next(part for part in path.parts if part.startswith("chromium-"))
    return int(folder.removeprefix("chromium-")) if folder.removeprefix("chromium-").isdigit() else -1


def missing_chromium() -> str | None:
    """Why Chromium cannot be used, naming both ways to get one; None when it can."""
    path = chromium_path()
    if path.is_file():
        return None
    if os.environ.get("CHROMIUM_PATH"):
        return f"CHROMIUM_PATH is {str(path)!r}, and no file is there: point it at a Chromium, or unset it"
    return (
        f"no Chromium: neither Debian's ({DEBIAN_CHROMIUM}) nor Playwright's own (under {_playwright_root()})"
        " is installed. Install one: `apt-get install -y chromium` (Debian, Ubuntu), or"
        " `.venv/bin/playwright install chromium` (any system that reaches Playwright's download site);"
        " or set CHROMIUM_PATH to a Chromium you have"
    )


def main() -> int:
    """`python -m tests.support.chromium` (scripts/test.sh, before anything else): exit 0 and print
    the browser the tests will use, or exit 2 saying how to get one."""
    missing = missing_chromium()
    if missing:
        print(missing, file=sys.stderr)
        return 2
    print(chromium_path())
    return 0


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


if __name__ == "__main__":
    sys.exit(main())
