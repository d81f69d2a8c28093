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
import sentry_sdk.traces
from sentry_sdk.envelope import Envelope
from sentry_sdk.integrations import logging as sentry_logging
from sentry_sdk.transport import Transport

from servicekit.loggers import NOISY_LOGGERS
from servicekit.request_span import streaming
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

    def spans(self) -> list[dict[str, Any]]:
        """Every streamed span (the records of `span` containers), oldest first. Streamed spans
        wait in the SDK's batcher: this flushes it first."""
        sentry_sdk.flush()
        return [record for container in self.items("span") for record in container["items"]]

    def roots(self) -> list[Root]:
        """Each request or task as the user thinks of it, whichever way the SDK sent it: a
        transaction (sentry-python 2, static lifecycle) or a segment span with its children."""
        roots = [Root.of_transaction(t) for t in self.transactions()]
        spans = self.spans()
        for segment in (span for span in spans if span.get("is_segment")):
            children = [
                s for s in spans if not s.get("is_segment") and _value(s, "sentry.segment.id") == segment["span_id"]
            ]
            roots.append(Root.of_segment(segment, children))
        return roots

    def only_root(self) -> Root:
        roots = self.roots()
        assert len(roots) == 1, f"expected one request root, got {[r.name for r in roots]}"
        return roots[0]


def _value(span: dict[str, Any], name: str) -> Any:
    attribute = (span.get("attributes") or {}).get(name)
    return attribute.get("value") if isinstance(attribute, dict) else attribute


@dataclass
class Child:
    """A span under a root: a transaction's span, or a streamed span of the segment."""

    op: str | None
    name: str | None
    status: str | None
    data: dict[str, Any]
    span_id: str
    parent_span_id: str | None


@dataclass
class Root:
    """A transaction or a segment span, read the same way: tags and data of a transaction are
    attributes of a segment, its measurements `measurement.<name>`, its detailed status
    `sentry.status.detail`."""

    name: str
    op: str | None
    trace_id: str
    span_id: str
    parent_span_id: str | None
    status: str | None
    tags: dict[str, str]
    data: dict[str, Any]
    measurements: dict[str, dict[str, Any]]
    user: dict[str, Any]
    children: list[Child]
    profiler_id: str | None
    raw: dict[str, Any]

    @classmethod
    def of_transaction(cls, transaction: dict[str, Any]) -> Root:
        trace = transaction["contexts"]["trace"]
        return cls(
            name=transaction["transaction"],
            op=trace.get("op"),
            trace_id=trace["trace_id"],
            span_id=trace["span_id"],
            parent_span_id=trace.get("parent_span_id"),
            status=trace.get("status"),
            tags=dict(transaction.get("tags") or {}),
            data=dict(trace.get("data") or {}),
            measurements=dict(transaction.get("measurements") or {}),
            user=dict(transaction.get("user") or {}),
            children=[
                Child(
                    op=span.get("op"),
                    name=span.get("description"),
                    status=span.get("status"),
                    data={**(span.get("data") or {}), **(span.get("tags") or {})},
                    span_id=span["span_id"],
                    parent_span_id=span.get("parent_span_id"),
                )
                for span in transaction.get("spans") or []
            ],
            profiler_id=transaction["contexts"].get("profile", {}).get("profiler_id"),
            raw=transaction,
        )

    @classmethod
    def of_segment(cls, segment: dict[str, Any], children: list[dict[str, Any]]) -> Root:
        attributes = {k: _value(segment, k) for k in segment.get("attributes") or {}}
        return cls(
            name=segment["name"],
            op=attributes.get("sentry.op"),
            trace_id=segment["trace_id"],
            span_id=segment["span_id"],
            parent_span_id=segment.get("parent_span_id"),
            status=attributes.get("sentry.status.detail", segment.get("status")),
            tags={k: v for k, v in attributes.items() if isinstance(v, str)},
            data=attributes,
            measurements={
                k.removeprefix("measurement."): {"value": v, "unit": attributes.get(f"{k}.unit")}
                for k, v in attributes.items()
                if k.startswith("measurement.") and not k.endswith(".unit")
            },
            user={k.removeprefix("user."): v for k, v in attributes.items() if k in ("user.id", "user.email")},
            children=[
                Child(
                    op=_value(span, "sentry.op"),
                    name=span.get("name"),
                    status=_value(span, "sentry.status.detail") or span.get("status"),
                    data={k: _value(span, k) for k in span.get("attributes") or {}},
                    span_id=span["span_id"],
                    parent_span_id=span.get("parent_span_id"),
                )
                for span in children
            ],
            profiler_id=attributes.get("sentry.profiler_id"),
            raw=segment,
        )


def start_root(name: str, op: str = "task") -> Any:
    """Start a root as a task would: a transaction on 2.x (unless spans stream), a segment span
    on 3.x (`sentry_sdk.start_transaction` is gone) or with SENTRY_TRACE_LIFECYCLE=stream."""
    if streaming():
        return sentry_sdk.traces.start_span(name=name, attributes={"sentry.op": op}, parent_span=None)
    return sentry_sdk.start_transaction(name=name, op=op)  # type: ignore[attr-defined,unused-ignore]


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
    # sentry-python 3 calls the set of loggers ignored for events `_IGNORED_LOGGERS_EVENTS`.
    ignored: set[str] = getattr(sentry_logging, "_IGNORED_LOGGERS", None) or sentry_logging._IGNORED_LOGGERS_EVENTS  # type: ignore[attr-defined,unused-ignore]
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


def continue_root(headers: dict[str, str], name: str) -> Any:
    """Start a root that continues the caller's trace (`headers`: sentry-trace, baggage)."""
    if streaming():
        sentry_sdk.continue_trace(headers)
        return start_root(name)
    transaction = sentry_sdk.continue_trace(headers, name=name)  # type: ignore[call-arg,unused-ignore]
    return sentry_sdk.start_transaction(transaction)  # type: ignore[attr-defined,unused-ignore]
