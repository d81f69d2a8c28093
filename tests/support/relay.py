"""The stack tests' view of relay-mock: the pytest plugin's `Relay` (relay_mock.pytest_plugin:
clear, wait_for, trace, verify, dsn) with answers as plain dicts for the tests that compare
JSON, and polling helpers (deadlines, no sleeps)."""

from __future__ import annotations

import time
from typing import Any, cast

from relay_mock.client import EnvelopeFilters
from relay_mock.client import RelayClient as Client
from relay_mock.pytest_plugin import Relay


def _set(values: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in values.items() if value is not None}


class StackRelay(Relay):
    """The plugin's `relay` fixture object, built on the stack's relay-mock, plus helpers."""

    def __init__(self, base_url: str) -> None:
        super().__init__(Client(base_url, timeout=30))
        self.base_url = base_url

    def envelopes(self, **filters: Any) -> list[dict[str, Any]]:
        filters = _set(filters)
        limit = int(filters.pop("limit", 1000))
        page = self.client.envelopes(limit=limit, **cast(EnvelopeFilters, filters))
        return [envelope.model_dump(exclude_unset=True) for envelope in page.envelopes]

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

    def wait_for_transactions(
        self, trace_id: str, projects: set[str], deadline_s: float = 30
    ) -> dict[str, list[tuple[dict[str, Any], dict[str, Any]]]]:
        """Each project's transactions of the trace, once every project in `projects` sent one."""
        deadline = time.monotonic() + deadline_s
        for project in sorted(projects):
            self.wait_for(
                "transaction", trace_id=trace_id, project=project, timeout=max(0.0, deadline - time.monotonic())
            )
        return self.transactions_by_project(trace_id)

    def wait(self, item_type: str, *, count: int = 1, timeout_s: float = 20, **filters: Any) -> int:
        """Block in relay-mock's `/inspect/wait` until `count` items of `item_type` match the
        filters (those of `/inspect/envelopes`); at the deadline the test fails with what did
        arrive. Returns how many match."""
        return len(self.wait_for(item_type, count=count, timeout=timeout_s, **_set(filters)))

    def payloads(self, item_type: str, **filters: Any) -> list[dict[str, Any]]:
        """Decoded payloads of one item type (events, transactions), newest first."""
        return [item["payload"] for _, item in self.items(item_type, **filters)]

    def errors(self, **filters: Any) -> list[dict[str, Any]]:
        """Error summaries from `/inspect/errors` (filters: trace_id, project, level, q)."""
        page = self.client.errors(limit=1000, **_set(filters))
        return [error.model_dump(exclude_unset=True) for error in page.errors]

    def error(self, event_id: str) -> dict[str, Any]:
        """One error event in full (`event` holds the payload as the SDK sent it)."""
        return self.client.error(event_id).model_dump(exclude_unset=True)

    def raw(self, envelope_id: str) -> bytes:
        """An envelope exactly as it was stored (decompressed)."""
        return self.client.raw(envelope_id)

    def close(self) -> None:
        self.client.close()
