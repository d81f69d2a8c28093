"""Witnessed propagation: each service says, at the wire, which trace context it received.

Every response carries `X-Sandbox-Witness`, a JSON list: this service's entry
`{"service": <name>, "received": <the sentry-trace header it got, "" when none>, "sampled": <its
own transaction's sampling decision, null without one>, "traceparent": <the W3C traceparent
header it got, "" when none>, "trace_id": <the trace id of its own entry span for the request,
whatever trace it continued or started; null without a span>}`, followed by
the entries of the services it called during the request (their responses carry theirs, and
`record_witnesses` collects them). The caller at the top of the chain (Locust) thus learns what
every service down the chain received, independently of the SDKs' transport, and records it
with its expectation; relay-mock's verifier compares it with the envelopes that arrived. A
service whose `trace_id` differs from the one it received did not continue the caller's trace
(the Sentry/OpenTelemetry boundary: sentry-sdk reads `sentry-trace`, plain OTel `traceparent`).

catalog (the OpenTelemetry service) writes the same header through this middleware, with its
OTel span as the source of `sampled` and `trace_id` (`own_span`).

Plain ASGI, always installed (with Sentry off too): the witness is about the wire, not the SDK.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import sentry_sdk
import sentry_sdk.traces
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.request_span import streaming

WITNESS_HEADER = "x-sandbox-witness"
MAX_ENTRIES = 32  # a chain deeper than this is a loop; the header stays small
MAX_HEADER_CHARS = 4096

# The service's own entry span for the current request: (its sampling decision, its trace id),
# each None when there is no span. Sentry's by default; catalog passes its OpenTelemetry one.
OwnSpan = Callable[[], tuple[bool | None, str | None]]

# The witnesses collected from the calls the current request made (a list shared with the
# middleware, so an endpoint's appends are seen when the response starts).
_collected: ContextVar[list[dict[str, Any]] | None] = ContextVar("sandbox_witnesses", default=None)


class WitnessMiddleware:
    def __init__(self, app: ASGIApp, service: str, own_span: OwnSpan | None = None) -> None:
        self.app = app
        self.service = service
        self.own_span = own_span or sentry_span

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = _header(scope, b"sentry-trace")
        traceparent = _header(scope, b"traceparent")
        collected: list[dict[str, Any]] = []
        token = _collected.set(collected)

        async def send_with_witness(message: Message) -> None:
            if message["type"] == "http.response.start":
                sampled, trace_id = self.own_span()
                own = {
                    "service": self.service,
                    "received": received,
                    "sampled": sampled,
                    "traceparent": traceparent,
                    "trace_id": trace_id,
                }
                entries = [own, *collected][:MAX_ENTRIES]
                value = json.dumps(entries, separators=(",", ":"))
                if len(value) <= MAX_HEADER_CHARS:
                    headers = [
                        *message.get("headers", []),
                        (WITNESS_HEADER.encode(), value.encode("latin-1", "replace")),
                    ]
                    message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_witness)
        finally:
            _collected.reset(token)


def record_witnesses(headers: Any) -> None:
    """Keep what a called service's response says it (and the services it called) received.

    `headers` is the response's headers (anything with `.get`). Malformed values are skipped:
    a witness the caller cannot read proves nothing either way."""
    collected = _collected.get()
    if collected is None:
        return
    entries = parse_witnesses(headers.get(WITNESS_HEADER))
    collected.extend(entries[: MAX_ENTRIES - len(collected)])


def parse_witnesses(value: str | None) -> list[dict[str, Any]]:
    """The entries of an `X-Sandbox-Witness` header; [] when absent or malformed."""
    if not value:
        return []
    try:
        entries = json.loads(value)
    except ValueError:
        return []
    if not isinstance(entries, list):
        return []
    return [
        _entry(e)
        for e in entries
        if isinstance(e, dict)
        and isinstance(e.get("service"), str)
        and isinstance(e.get("received"), str)
        and e.get("sampled") in (True, False, None)
    ]


def _entry(raw: dict[str, Any]) -> dict[str, Any]:
    """One entry's known keys. `traceparent` and `trace_id` came later (issue 18): an entry
    without them (an older service) keeps none; one with a malformed value drops that key only."""
    entry = {"service": raw["service"], "received": raw["received"], "sampled": raw.get("sampled")}
    if isinstance(raw.get("traceparent"), str):
        entry["traceparent"] = raw["traceparent"]
    if "trace_id" in raw and (raw["trace_id"] is None or isinstance(raw["trace_id"], str)):
        entry["trace_id"] = raw["trace_id"]
    return entry


def sentry_span() -> tuple[bool | None, str | None]:
    """Whether this service's SDK kept the request's transaction (its own sampling decision,
    which backpressure may turn against the caller's), and the trace it belongs to; None, None
    without a transaction."""
    if streaming():  # Scope.transaction does not exist for streamed spans (and warns)
        span = sentry_sdk.traces.get_current_span()
        if span is None:
            return None, None
        sampled = getattr(span, "sampled", None)
        trace_id = getattr(span, "trace_id", None)
        return (
            sampled if isinstance(sampled, bool) else None,
            trace_id if isinstance(trace_id, str) else None,
        )
    transaction = sentry_sdk.get_current_scope().transaction
    if transaction is None:
        return None, None
    return transaction.sampled, transaction.trace_id


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""
