"""Witnessed propagation: each service says, at the wire, which trace context it received.

Every response carries `X-Sandbox-Witness`, a JSON list: this service's entry
`{"service": <name>, "received": <the sentry-trace header it got, "" when none>, "sampled": <its
own transaction's sampling decision, null without one>}`, followed by
the entries of the services it called during the request (their responses carry theirs, and
`record_witnesses` collects them). The caller at the top of the chain (Locust) thus learns what
every service down the chain received, independently of the SDKs' transport, and records it
with its expectation; relay-mock's verifier compares it with the envelopes that arrived.

Plain ASGI, always installed (with Sentry off too): the witness is about the wire, not the SDK.
"""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any

import sentry_sdk
import sentry_sdk.traces
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.request_span import streaming

WITNESS_HEADER = "x-sandbox-witness"
MAX_ENTRIES = 32  # a chain deeper than this is a loop; the header stays small
MAX_HEADER_CHARS = 4096

# The witnesses collected from the calls the current request made (a list shared with the
# middleware, so an endpoint's appends are seen when the response starts).
_collected: ContextVar[list[dict[str, Any]] | None] = ContextVar("sandbox_witnesses", default=None)


class WitnessMiddleware:
    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        received = _header(scope, b"sentry-trace")
        collected: list[dict[str, Any]] = []
        token = _collected.set(collected)

        async def send_with_witness(message: Message) -> None:
            if message["type"] == "http.response.start":
                own = {"service": self.service, "received": received, "sampled": _decision()}
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
        {"service": e["service"], "received": e["received"], "sampled": e.get("sampled")}
        for e in entries
        if isinstance(e, dict)
        and isinstance(e.get("service"), str)
        and isinstance(e.get("received"), str)
        and e.get("sampled") in (True, False, None)
    ]


def _decision() -> bool | None:
    """Whether this service's SDK kept the request's transaction (its own sampling decision,
    which backpressure may turn against the caller's); None without a transaction."""
    if streaming():  # Scope.transaction does not exist for streamed spans (and warns)
        span = sentry_sdk.traces.get_current_span()
        sampled = getattr(span, "sampled", None) if span is not None else None
        return sampled if isinstance(sampled, bool) else None
    transaction = sentry_sdk.get_current_scope().transaction
    return transaction.sampled if transaction is not None else None


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return str(value.decode("latin-1"))
    return ""
