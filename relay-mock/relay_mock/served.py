"""A request a service served, as the person testing it thinks of it, whichever way the SDK sent it.

sentry-python 2.x (and most SDKs) sends a served request as a `transaction` item; span streaming
(sentry-python 3.x always, 2.x with `trace_lifecycle="stream"`, @sentry/node 11) sends it as the
segment span of a `span` item (`is_segment: true`), with the request's other spans beside it.
A test that waits for "the transaction" breaks on the upgrade; one that waits for the served
request does not. `served_requests()` reads both from an envelope fetched with its payloads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from relay_mock.models import Envelope, Item


@dataclass(frozen=True, slots=True)
class ServedRequest:
    kind: Literal["transaction", "segment"]
    project: str | None
    name: str | None
    op: str | None
    status: str | None
    trace_id: str | None
    span_id: str | None
    parent_span_id: str | None
    sdk: str | None  # "sentry.python/3.0.0": who sent it
    envelope_id: str
    # The transaction event, or the segment span (v2: typed `attributes`).
    payload: dict[str, Any] = field(repr=False)

    @property
    def attributes(self) -> dict[str, Any]:
        """The request's data by key, plain values: a transaction's trace-context `data`, a segment's
        attributes with their types dropped."""
        if self.kind == "transaction":
            trace = _dict(_dict(self.payload.get("contexts")).get("trace"))
            return dict(_dict(trace.get("data")))
        return {
            key: value.get("value") if isinstance(value, dict) else value
            for key, value in _dict(self.payload.get("attributes")).items()
        }


def served_requests(envelope: Envelope) -> list[ServedRequest]:
    """The requests an envelope reports: its transactions and its items' segment spans."""
    # The envelope header's `sdk`, else the client X-Sentry-Auth named (sentry-python 3 sends no `sdk`).
    sdk = _sdk(envelope.header) or envelope.request.sdk_client
    found: list[ServedRequest] = []
    for item in envelope.items:
        payload = item.payload
        if not isinstance(payload, dict):
            continue
        if item.type == "transaction":
            found.append(_transaction(envelope, item, payload, sdk))
        elif item.type == "span":
            listed = payload.get("items")
            spans: list[Any] = listed if isinstance(listed, list) else [payload]
            found += [_segment(envelope, span, sdk) for span in spans if _dict(span).get("is_segment") is True]
    return found


def _transaction(envelope: Envelope, item: Item, payload: dict[str, Any], sdk: str | None) -> ServedRequest:
    trace = _dict(_dict(payload.get("contexts")).get("trace"))
    return ServedRequest(
        kind="transaction",
        project=envelope.project.name,
        name=_str(payload.get("transaction")),
        op=_str(trace.get("op")),
        status=_str(trace.get("status")),
        trace_id=_str(trace.get("trace_id")) or item.trace_id,
        span_id=_str(trace.get("span_id")),
        parent_span_id=_str(trace.get("parent_span_id")),
        sdk=sdk,
        envelope_id=envelope.id,
        payload=payload,
    )


def _segment(envelope: Envelope, span: dict[str, Any], sdk: str | None) -> ServedRequest:
    attributes = _dict(span.get("attributes"))

    def attribute(name: str) -> str | None:
        value = attributes.get(name)
        return _str(value.get("value") if isinstance(value, dict) else value)

    return ServedRequest(
        kind="segment",
        project=envelope.project.name,
        name=_str(span.get("name")),
        op=attribute("sentry.op"),
        # v2 spans say only ok/error; SDKs that know more put it in an attribute.
        status=attribute("sentry.status.detail") or _str(span.get("status")),
        trace_id=_str(span.get("trace_id")) or envelope.trace_id,
        span_id=_str(span.get("span_id")),
        parent_span_id=_str(span.get("parent_span_id")),
        sdk=sdk,
        envelope_id=envelope.id,
        payload=span,
    )


def _sdk(header: dict[str, Any]) -> str | None:
    sdk = _dict(header.get("sdk"))
    name, version = _str(sdk.get("name")), _str(sdk.get("version"))
    return f"{name}/{version}" if name and version else name


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None
