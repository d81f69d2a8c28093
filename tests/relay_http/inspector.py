"""A thin client for relay-mock's inspection API, with blocking waits instead of sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import httpx

T = TypeVar("T")


def poll(fetch: Callable[[], T | None], *, deadline_s: float, what: str, interval_s: float = 0.05) -> T:
    """Call `fetch` until it returns something other than None; fail at the deadline."""
    deadline = time.monotonic() + deadline_s
    while True:
        result = fetch()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {deadline_s}s waiting for {what}")
        time.sleep(interval_s)


class Inspector:
    def __init__(self, relay_url: str) -> None:
        self.url = relay_url
        self.http = httpx.Client(base_url=relay_url, timeout=30)

    def __enter__(self) -> Inspector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def get(self, path: str, **params: Any) -> Any:
        response = self.http.get(path, params={k: v for k, v in params.items() if v is not None})
        assert response.status_code == 200, f"GET {path} {params}: {response.status_code} {response.text}"
        return response.json()

    def envelopes(self, **filters: Any) -> list[dict[str, Any]]:
        """One page (up to 1000) of envelopes matching the filters, newest first."""
        return list(self.get("/inspect/envelopes", limit=1000, **filters)["envelopes"])

    def envelope(self, **filters: Any) -> dict[str, Any]:
        """The only envelope matching the filters."""
        found = self.envelopes(**filters)
        assert len(found) == 1, f"{len(found)} envelopes match {filters}"
        return found[0]

    def stats(self) -> dict[str, Any]:
        return dict(self.get("/inspect/stats"))

    def refusals(self) -> list[dict[str, Any]]:
        return list(self.get("/inspect/refusals", limit=10_000)["refusals"])

    def wait(self, item_type: str | None = None, *, count: int = 1, timeout_s: float = 15, **filters: Any) -> int:
        """Block in /inspect/wait until `count` items match; fail at the timeout."""
        response = self.http.get(
            "/inspect/wait",
            params={
                **{k: v for k, v in filters.items() if v is not None},
                **({"type": item_type} if item_type else {}),
                "count": count,
                "timeout": timeout_s,
            },
            timeout=timeout_s + 10,
        )
        assert response.status_code == 200, response.text
        result = response.json()
        assert result["satisfied"], f"{result['count']} of {count} {item_type or ''} items match {filters}"
        return int(result["count"])

    def wait_refusals(self, count: int, *, deadline_s: float = 10) -> list[dict[str, Any]]:
        """Refusals are recorded after the answer went out: wait until `count` are stored."""
        return poll(
            lambda: found if len(found := self.refusals()) >= count else None,
            deadline_s=deadline_s,
            what=f"{count} recorded refusals",
        )

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        response = self.http.post("/inspect/faults", json=rule)
        assert response.status_code == 201, response.text
        return dict(response.json())

    def faults(self) -> list[dict[str, Any]]:
        return list(self.get("/inspect/faults")["rules"])

    def clear(self) -> None:
        """Forget everything stored and every fault rule."""
        self.http.delete("/inspect/envelopes").raise_for_status()
        self.http.delete("/inspect/faults").raise_for_status()
