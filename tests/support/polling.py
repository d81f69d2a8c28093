"""Waiting without sleeps: poll a condition until it holds or a deadline passes."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def poll(fetch: Callable[[], T | None], *, deadline_s: float, what: str = "condition", interval_s: float = 0.05) -> T:
    """Call `fetch` until it returns something other than None; fail at the deadline, naming `what`."""
    deadline = time.monotonic() + deadline_s
    while True:
        result = fetch()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {deadline_s}s waiting for {what}")
        time.sleep(interval_s)
