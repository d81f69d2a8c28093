"""The relay_http tests' view of relay-mock's inspection API: `relay_mock.client` with the
answers as plain dicts (the tests compare JSON), assertions in place of errors, and blocking
waits instead of sleeps. `http` is the client's own connection, for tests of the raw API."""

from __future__ import annotations

from typing import Any, cast

from pydantic import BaseModel

from relay_mock.client import EnvelopeFilters, ItemFilters, RelayClient
from tests.support.polling import poll


def plain(model: BaseModel) -> dict[str, Any]:
    """The model as the JSON it was read from (fields the answer did not hold stay out)."""
    return model.model_dump(exclude_unset=True)


class Inspector:
    def __init__(self, relay_url: str) -> None:
        self.url = relay_url
        self.client = RelayClient(relay_url, timeout=30)
        self.http = self.client.http

    def __enter__(self) -> Inspector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.client.close()

    def get(self, path: str, **params: Any) -> Any:
        """Any GET route, as JSON; asserts a 200."""
        response = self.http.get(path, params={k: v for k, v in params.items() if v is not None})
        assert response.status_code == 200, f"GET {path} {params}: {response.status_code} {response.text}"
        return response.json()

    def envelopes(self, **filters: Any) -> list[dict[str, Any]]:
        """One page (up to 1000) of envelopes matching the filters, newest first."""
        page = self.client.envelopes(limit=1000, **cast(EnvelopeFilters, _set(filters)))
        return [plain(envelope) for envelope in page.envelopes]

    def envelope(self, **filters: Any) -> dict[str, Any]:
        """The only envelope matching the filters."""
        found = self.envelopes(**filters)
        assert len(found) == 1, f"{len(found)} envelopes match {filters}"
        return found[0]

    def stats(self) -> dict[str, Any]:
        return plain(self.client.stats())

    def refusals(self) -> list[dict[str, Any]]:
        return [plain(refusal) for refusal in self.client.refusals(limit=10_000)]

    def wait(self, item_type: str | None = None, *, count: int = 1, timeout_s: float = 15, **filters: Any) -> int:
        """Block in /inspect/wait until `count` items match; fail at the timeout."""
        result = self.client.wait(item_type, count=count, timeout=timeout_s, **cast(ItemFilters, _set(filters)))
        assert result.satisfied, f"{result.count} of {count} {item_type or ''} items match {filters}"
        return result.count

    def wait_refusals(self, count: int, *, deadline_s: float = 10) -> list[dict[str, Any]]:
        """Refusals are recorded after the answer went out: wait until `count` are stored."""
        return poll(
            lambda: found if len(found := self.refusals()) >= count else None,
            deadline_s=deadline_s,
            what=f"{count} recorded refusals",
        )

    def verify(self, *, topology: dict[str, Any] | None = None, **window: Any) -> dict[str, Any]:
        """The verifier's report as JSON (window: trace_id, since, until, deadline); `topology`:
        an expectations file's settings, judged instead of relay-mock's own."""
        return plain(self.client.verify(topology=topology, **window).report)

    def expect(self, *expectations: dict[str, Any]) -> int:
        """Record expectations, the verifier's ground truth; returns how many were recorded."""
        return self.client.record_expectations(expectations)

    def add_fault(self, **rule: Any) -> dict[str, Any]:
        return plain(self.client.add_fault(rule))

    def faults(self) -> list[dict[str, Any]]:
        return [plain(rule) for rule in self.client.faults()]

    def clear(self) -> None:
        """Forget everything stored and every fault rule."""
        self.client.clear()
        self.client.clear_faults()


def _set(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}
