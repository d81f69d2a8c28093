"""The span that serves the current request, in either of the SDK's trace lifecycles.

With `trace_lifecycle="static"` (SENTRY_TRACE_LIFECYCLE=transactions) that is the transaction
Sentry's ASGI integration started; with `"stream"` it is the segment span, and the
transaction APIs (`Scope.transaction`, `sentry_sdk.start_span`) answer None or a no-op with a
DeprecationWarning. Code that enriches the request's span goes through this module, so it
works the same in both modes. sentry-python 3 has only the second (its `sentry_sdk.traces.Span`
is 2.x's `StreamedSpan`, still importable under that name).
"""

from __future__ import annotations

from typing import Any, Protocol

import sentry_sdk
import sentry_sdk.traces

from servicekit.sdk_version import SPANS_ONLY


class RequestSpan(Protocol):
    """What the services do to the span that serves a request."""

    @property
    def name(self) -> str | None: ...

    def set_tag(self, key: str, value: str) -> None: ...

    def set_data(self, key: str, value: Any) -> None: ...

    def set_measurement(self, name: str, value: float, unit: str) -> None: ...

    def set_status(self, status: str) -> None: ...


def streaming() -> bool:
    """Whether spans are streamed: always on sentry-python 3 (its only kind of span), on 2.x
    when the active client was configured with SENTRY_TRACE_LIFECYCLE=stream."""
    if SPANS_ONLY:
        return True
    client = sentry_sdk.get_client()
    return client.is_active() and client.options.get("trace_lifecycle") == "stream"


def current_request_span() -> RequestSpan | None:
    """The transaction (static lifecycle) or the current streamed span (stream lifecycle)."""
    if streaming():
        span = sentry_sdk.traces.get_current_span()
        return _StreamedRequestSpan(span) if span is not None else None
    transaction: RequestSpan | None = sentry_sdk.get_current_scope().transaction
    return transaction


def current_trace_id() -> str | None:
    """The trace id of the current span in either lifecycle, None outside any span."""
    if streaming():
        streamed = sentry_sdk.traces.get_current_span()
        return streamed.trace_id if streamed is not None else None
    span = sentry_sdk.get_current_span()
    return span.trace_id if span is not None else None


class _StreamedRequestSpan:
    """A streamed span behind the transaction-shaped calls the middleware makes.

    Streamed spans have attributes instead of tags, data and measurements, and only two
    statuses (ok, error): the detailed status is kept as the `sentry.status.detail` attribute.
    """

    def __init__(self, span: sentry_sdk.traces.StreamedSpan) -> None:
        self._span = span

    @property
    def name(self) -> str | None:
        return self._span.name

    def set_tag(self, key: str, value: str) -> None:
        self._span.set_attribute(key, value)

    def set_data(self, key: str, value: Any) -> None:
        self._span.set_attribute(key, value)

    def set_measurement(self, name: str, value: float, unit: str) -> None:
        self._span.set_attribute(f"measurement.{name}", value)
        self._span.set_attribute(f"measurement.{name}.unit", unit)

    def set_status(self, status: str) -> None:
        self._span.status = "ok" if status == "ok" else "error"
        self._span.set_attribute("sentry.status.detail", status)
