"""Fixtures for in-process tests of the Sentry setup.

`sentry_init` initialises the SDK through the services' own `configure_sentry`, with a
transport that keeps every envelope instead of sending it, and closes the SDK afterwards
so no test sees another's client, scope data or ignored loggers.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.integrations import logging as sentry_logging
from sentry_sdk.transport import Transport

from servicekit.loggers import NOISY_LOGGERS
from servicekit.sentry import configure_sentry
from servicekit.settings import ServiceSettings
from tests.support.sentry_client import shut_down_sentry

# The in-process test clients use this host as their base URL. Sentry's httpx integration
# treats requests to the DSN's host as the SDK's own, so it adds no trace headers of the
# test's to them: every request reaches the app exactly as the test wrote it.
TEST_HOST = "testserver"
TEST_DSN = f"http://0123456789abcdef0123456789abcdef@{TEST_HOST}/1"


class CapturingTransport(Transport):
    """Keeps what the SDK would send; the client calls it synchronously."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)


@dataclass
class Captured:
    transport: CapturingTransport

    @property
    def envelopes(self) -> list[Envelope]:
        return self.transport.envelopes

    def items(self, item_type: str) -> list[dict[str, Any]]:
        """The decoded payloads of every captured item of one type, oldest first."""
        found = []
        for envelope in self.envelopes:
            for item in envelope.items:
                if item.type == item_type:
                    payload = item.payload.json
                    found.append(payload if payload is not None else json.loads(item.payload.get_bytes()))
        return found

    def events(self) -> list[dict[str, Any]]:
        return self.items("event")

    def transactions(self) -> list[dict[str, Any]]:
        return self.items("transaction")

    def only_transaction(self) -> dict[str, Any]:
        transactions = self.transactions()
        assert len(transactions) == 1, f"expected one transaction, got {[t.get('transaction') for t in transactions]}"
        return transactions[0]


def make_settings(**overrides: Any) -> ServiceSettings:
    values: dict[str, Any] = {
        "service_name": "svc",
        "app_version": "1.2.3",
        "environment": "test",
        "sentry_dsn": TEST_DSN,
        "sentry_mcp_url": None,
        **overrides,
    }
    return ServiceSettings(**values)


SentryInit = Callable[..., Captured]


@pytest.fixture
def sentry_init() -> Iterator[SentryInit]:
    """`sentry_init(settings=None, **setting_overrides)` configures the SDK and returns what it captures."""
    ignored = sentry_logging._IGNORED_LOGGERS
    saved = set(ignored)
    # Start without the noisy loggers ignored, so a test proves configure_sentry ignores them itself.
    noisy = tuple(NOISY_LOGGERS)
    ignored.difference_update({name for name in ignored if name.startswith(noisy)})

    def init(settings: ServiceSettings | None = None, **overrides: Any) -> Captured:
        assert configure_sentry(settings or make_settings(**overrides), transport=CapturingTransport)
        transport = sentry_sdk.get_client().transport
        assert isinstance(transport, CapturingTransport)
        return Captured(transport)

    try:
        yield init
    finally:
        shut_down_sentry()
        ignored.clear()
        ignored.update(saved)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
