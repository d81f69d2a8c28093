"""Trace utilities: read, write and enrich Sentry's distributed-tracing context.

Every function here is safe to call with or without an active SDK client and
never raises on bad input: instrumentation must not break the request it observes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, cast
from urllib.parse import unquote

import sentry_sdk
import sentry_sdk.traces
from sentry_sdk.traces import StreamedSpan

if TYPE_CHECKING:
    # sentry-python 2's transaction spans; 3.x has no `sentry_sdk.tracing` (spans only stream).
    from sentry_sdk.tracing import Span

from servicekit.request_span import current_request_span, streaming

# W3C baggage limits what a carrier may hold; Sentry follows it.
MAX_BAGGAGE_BYTES = 8192
_SENTRY_TRACE = re.compile(r"^([0-9a-f]{32})-([0-9a-f]{16})(?:-([01]))?$")
_SENTRY_TRACE_ANY_CASE = re.compile(r"^([0-9a-fA-F]{32})-([0-9a-fA-F]{16})(?:-([01]))?$")


@dataclass(frozen=True)
class IncomingTrace:
    """What a request's `sentry-trace` and `baggage` headers said, parsed and checked."""

    sentry_trace: str | None = None
    baggage: str | None = None
    trace_id: str | None = None
    parent_span_id: str | None = None
    sampled: bool | None = None
    dsc: dict[str, str] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def present(self) -> bool:
        return self.sentry_trace is not None

    @property
    def valid(self) -> bool:
        return self.trace_id is not None and not self.problems


class _HasHeaders(Protocol):
    @property
    def headers(self) -> Mapping[str, str]: ...


HeaderSource = _HasHeaders | Mapping[str, str] | Iterable[tuple[bytes, bytes]]


def extract_sentry_trace(request: HeaderSource) -> IncomingTrace:
    """Parse `sentry-trace` and `baggage` from a request, its headers, or raw ASGI headers.

    Malformed values are reported in `problems`; this function never raises.
    """
    headers = _lower_headers(request)
    raw_trace = headers.get("sentry-trace")
    raw_baggage = headers.get("baggage")
    problems: list[str] = []
    trace_id = parent_span_id = None
    sampled: bool | None = None

    if raw_trace is not None:
        value = raw_trace.strip()
        match = _SENTRY_TRACE.match(value)
        if match:
            trace_id, parent_span_id, flag = match.groups()
            sampled = None if flag is None else flag == "1"
        elif _SENTRY_TRACE_ANY_CASE.match(value):
            problems.append("sentry-trace: uppercase hex (the SDK ignores it and starts a new trace)")
        else:
            problems.append("sentry-trace: expected <32 hex trace id>-<16 hex span id>[-<0|1>]")
        if trace_id is not None and set(trace_id) == {"0"}:
            problems.append("sentry-trace: the all-zero trace id is invalid")
            trace_id = None

    dsc: dict[str, str] = {}
    if raw_baggage is not None:
        if len(raw_baggage.encode()) > MAX_BAGGAGE_BYTES:
            problems.append(f"baggage: longer than {MAX_BAGGAGE_BYTES} bytes")
        for member in raw_baggage.split(","):
            member = member.strip()
            if not member:
                continue
            key, sep, val = member.partition("=")
            if not sep or not key.strip():
                problems.append(f"baggage: member {member[:40]!r} is not key=value")
                continue
            key = key.strip()
            if key.startswith("sentry-"):
                dsc[key.removeprefix("sentry-")] = unquote(val.split(";", 1)[0].strip())
        if trace_id and dsc.get("trace_id") and dsc["trace_id"] != trace_id:
            problems.append("baggage: sentry-trace_id differs from the sentry-trace header")

    return IncomingTrace(
        sentry_trace=raw_trace,
        baggage=raw_baggage,
        trace_id=trace_id,
        parent_span_id=parent_span_id,
        sampled=sampled,
        dsc=dsc,
        problems=tuple(problems),
    )


def trace_headers() -> list[tuple[str, str]]:
    """The `sentry-trace` and `baggage` headers of the current trace (empty without one)."""
    headers = []
    traceparent = sentry_sdk.get_traceparent()
    if traceparent:
        headers.append(("sentry-trace", traceparent))
        baggage = sentry_sdk.get_baggage()
        if baggage:
            headers.append(("baggage", baggage))
    return headers


class _MutableHeaders(Protocol):
    def __setitem__(self, key: str, value: str) -> None: ...


class _HasMutableHeaders(Protocol):
    @property
    def headers(self) -> _MutableHeaders: ...


ResponseT = TypeVar("ResponseT", bound=_HasMutableHeaders)


def inject_sentry_trace_headers(response: ResponseT) -> ResponseT:
    """Add the current trace's `sentry-trace` and `baggage` to a response, so its caller
    can tell which trace served it. Returns the response for chaining."""
    for name, value in trace_headers():
        response.headers[name] = value
    return response


def tag_transaction(key: str, value: object) -> bool:
    """Tag the current span (or transaction), and the scope so errors carry the tag too.

    Returns whether a span was there to tag.
    """
    text = str(value)
    sentry_sdk.set_tag(key, text)
    span = current_request_span() if streaming() else sentry_sdk.get_current_span()
    if span is None:
        return False
    span.set_tag(key, text)
    return True


class sentry_span:  # noqa: N801 - reads like the context manager it is
    """A child span of whatever span is current; usable with `with` and `async with`.

    Spans nest naturally. An exception leaving the block marks the span
    `internal_error` and records the exception's type; the exception propagates.
    With SENTRY_TRACE_LIFECYCLE=stream it is a streamed span (`op` as `sentry.op`, the data
    as attributes), since the transaction API only makes no-op spans in that mode.
    """

    def __init__(self, op: str, description: str | None = None, **data: Any) -> None:
        self.op = op
        self.description = description
        self.data = data
        self._span: Span | StreamedSpan | None = None

    def __enter__(self) -> Span | StreamedSpan:
        if streaming():
            attributes = {"sentry.op": self.op, **self.data}
            streamed = sentry_sdk.traces.start_span(name=self.description or self.op, attributes=attributes)
            self._span = streamed.__enter__()
            return self._span
        span = sentry_sdk.start_span(op=self.op, name=self.description)
        for key, value in self.data.items():
            span.set_data(key, value)
        self._span = span.__enter__()
        return self._span

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        span = self._span
        if span is None:
            return
        if isinstance(span, StreamedSpan):
            if exc_type is not None:
                span.status = "error"
                # Streamed spans know only ok and error; the detail is kept as the request span keeps it.
                span.set_attribute("sentry.status.detail", "internal_error")
                span.set_attribute("error.type", exc_type.__name__)
                span.set_attribute("error.message", str(exc)[:200])
            span.__exit__(exc_type, exc, tb)
            return
        if exc_type is not None:
            span.set_status("internal_error")
            span.set_data("error.type", exc_type.__name__)
            span.set_data("error.message", str(exc)[:200])
        span.__exit__(exc_type, exc, tb)

    async def __aenter__(self) -> Span | StreamedSpan:
        return self.__enter__()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.__exit__(exc_type, exc, tb)


def _lower_headers(source: HeaderSource) -> dict[str, str]:
    if isinstance(source, Mapping) and source.get("type") in ("http", "websocket"):
        # An ASGI scope: a mapping of anything, its headers raw byte pairs.
        raw = cast(Iterable[tuple[bytes, bytes]], source.get("headers", ()))
        return dict(_decode_raw(raw))
    headers: Any = getattr(source, "headers", source)
    if isinstance(headers, Mapping):
        return {str(k).lower(): str(v) for k, v in headers.items()}
    return dict(_decode_raw(headers))


def _decode_raw(raw: Iterable[tuple[bytes, bytes]]) -> Iterator[tuple[str, str]]:
    for key, value in raw:
        yield key.decode("latin-1").lower(), value.decode("latin-1")
