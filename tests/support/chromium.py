"""Debian's Chromium for Playwright (which cannot download browsers here); CHROMIUM_PATH overrides it."""

from __future__ import annotations

import os
from pathlib import Path

# Without the background-networking flags Chromium keeps trying to reach the internet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> Path:
    return Path(os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"))


def missing_chromium() -> str | None:
    """Why Chromium cannot be used, or None."""
    path = chromium_path()
    if path.is_file():
        return None
    return f"no Chromium at {path}: install Debian's (apt-get install -y chromium) or point CHROMIUM_PATH at one"
