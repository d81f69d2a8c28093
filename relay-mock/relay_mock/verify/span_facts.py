"""Spans read back out of a stored payload, as the verifier's `SpanFact`s: a
transaction's spans, or the spans of a `span` item (SDKs that stream spans, such as
@sentry/node since v11, send those instead of transactions). Ingest does not index spans:
keeping them only in the verbatim payload keeps writes small, and readers that need them
parse just the payloads they look at. This is the one parser of a span."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from relay_mock.protocol.timestamps import timestamp
from relay_mock.verify.model import SpanFact

MAX_SPANS = 1000


@dataclass(slots=True)
class StreamedSpan:
    """A span of a `span` item, with what span streaming says besides the span itself."""

    span: SpanFact
    segment: bool  # a segment span (`is_segment`) is what a transaction was: a service's entry point
    trace_id: str | None
    release: str | None  # these four are read for segments only
    environment: str | None
    # "otlp" for a span an OpenTelemetry SDK exported over OTLP (its `sentry.ingest` attribute).
    ingest: str | None = None
    # The span's `name` (v2), which names a segment better than an OTLP span's description
    # (the full URL of its request).
    name: str | None = None


def span_fact(span: dict[str, Any]) -> SpanFact:
    # The hot loop of the verifier's reading (once per span of every transaction): plain lookups only.
    get = span.get
    span_id, parent, op, description, status = (
        get("span_id"),
        get("parent_span_id"),
        get("op"),
        get("description"),
        get("status"),
    )
    return SpanFact(
        span_id if isinstance(span_id, str) else "",
        parent if isinstance(parent, str) else None,
        op if isinstance(op, str) else None,
        description if isinstance(description, str) else None,
        timestamp(get("start_timestamp")),
        timestamp(get("timestamp")),
        status if isinstance(status, str) else None,
        # Only calls need it, and only when they failed (did a response come back?).
        http_status(get("data")) if status is not None and status != "ok" else None,
    )


def transaction_spans(spans: Any) -> tuple[SpanFact, ...]:
    """The spans of a transaction event (its `spans` list)."""
    if not isinstance(spans, list):
        return ()
    return tuple(span_fact(span) for span in spans[:MAX_SPANS] if isinstance(span, dict))


def streamed_spans(payload: Any) -> list[StreamedSpan]:
    """The spans of a `span` item: a v2 container ({"items": [...]}) or one v1 standalone span."""
    if not isinstance(payload, dict):
        return []
    spans = payload["items"] if isinstance(payload.get("items"), list) else [payload]
    found = []
    for span in spans[:MAX_SPANS]:
        if not isinstance(span, dict):
            continue
        attributes: dict[str, Any] = span["attributes"] if isinstance(span.get("attributes"), dict) else {}
        fact = span_fact(span)
        fact.op = fact.op or _attribute(attributes, "sentry.op")
        if fact.description is None and isinstance(span.get("name"), str):
            fact.description = span["name"]
        if fact.end is None:
            fact.end = timestamp(span.get("end_timestamp"))
        # v2 spans know only ok/error; the services keep the detailed status as an attribute.
        fact.status = _attribute(attributes, "sentry.status.detail") or fact.status
        fact.http_status = http_status(attributes)
        if _attribute(attributes, "sentry.ingest") == "otlp":
            fact.otlp_resource = _resource(attributes)
        trace_id = span.get("trace_id")
        segment = span.get("is_segment") is True
        if not segment:
            # What a segment says of its service is read from segments only (the hot loop of
            # reading OTLP spans, whose attributes are many).
            found.append(StreamedSpan(fact, False, trace_id if isinstance(trace_id, str) else None, None, None))
            continue
        name = span.get("name")
        found.append(
            StreamedSpan(
                fact,
                segment=True,
                trace_id=trace_id if isinstance(trace_id, str) else None,
                release=_attribute(attributes, "sentry.release"),
                environment=_attribute(attributes, "sentry.environment"),
                ingest=_attribute(attributes, "sentry.ingest"),
                name=name if isinstance(name, str) else None,
            )
        )
    return found


def http_status(data: Any) -> int | None:
    """The response status an HTTP client span recorded: in a transaction's span `data`, or a
    streamed span's typed `attributes` ({"type": ..., "value": ...})."""
    if not isinstance(data, dict):
        return None
    value = data.get("http.response.status_code")
    if value is None:
        # OpenTelemetry's older HTTP conventions (the default of its Python instrumentations).
        value = data.get("http.status_code")
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _resource(attributes: dict[str, Any]) -> dict[str, Any]:
    """An OTLP span's resource, from its `resource.<key>` attributes (protocol/otlp.py)."""
    return {
        key[9:]: value.get("value") if isinstance(value, dict) else value
        for key, value in attributes.items()
        if key.startswith("resource.")
    }


def _attribute(attributes: dict[str, Any], name: str) -> str | None:
    # v2 attributes are typed: {"type": "string", "value": ...}
    value = attributes.get(name)
    value = value.get("value") if isinstance(value, dict) else value
    return value if isinstance(value, str) else None
