"""A small client for relay-mock's inspection API, with polling helpers (deadlines, no sleeps)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def poll(fetch: Callable[[], T | None], *, deadline_s: float, interval_s: float = 0.2, what: str = "condition") -> T:
    """Call `fetch` until it returns something other than None, or fail at the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        result = fetch()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {deadline_s}s waiting for {what}")
        time.sleep(interval_s)


class RelayClient:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def envelopes(self, **filters: Any) -> list[dict[str, Any]]:
        params = {k: v for k, v in filters.items() if v is not None}
        params.setdefault("limit", 1000)
        response = self.http.get("/inspect/envelopes", params=params)
        response.raise_for_status()
        return list(response.json()["envelopes"])

    def items(self, item_type: str, **filters: Any) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(envelope, item) pairs of one item type."""
        return [
            (envelope, item)
            for envelope in self.envelopes(type=item_type, **filters)
            for item in envelope["items"]
            if item["header"].get("type") == item_type
        ]

    def transactions_by_project(self, trace_id: str) -> dict[str, list[tuple[dict[str, Any], dict[str, Any]]]]:
        result: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
        for envelope, item in self.items("transaction", trace_id=trace_id):
            result.setdefault(envelope["project"]["name"], []).append((envelope, item))
        return result

    def wait_for_transactions(self, trace_id: str, projects: set[str], deadline_s: float = 30):  # type: ignore[no-untyped-def]
        def fetch():  # type: ignore[no-untyped-def]
            found = self.transactions_by_project(trace_id)
            return found if projects <= set(found) else None

        return poll(fetch, deadline_s=deadline_s, what=f"transactions of {sorted(projects)} in trace {trace_id}")

    def close(self) -> None:
        self.http.close()

    def clear(self) -> None:
        self.http.delete("/inspect/envelopes").raise_for_status()
