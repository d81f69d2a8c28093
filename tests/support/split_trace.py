"""A trace split at the Sentry/OpenTelemetry boundary, sent to a relay-mock process.

api → downstream (Sentry SDK transactions, sent as envelopes), and downstream's call to an
OpenTelemetry service (the `playground` project, host `playground:8002`) that reads only
`traceparent`: its server span, stored the way OTLP ingest stores it (a v2 span in a `span`
item, `sentry.ingest` = "otlp", no DSC), starts a trace of its own inside the call span."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import httpx

from tests.relay_http.wire import (
    API,
    DOWNSTREAM,
    PLAYGROUND,
    Project,
    envelope,
    item,
    new_id,
    post_envelope,
    transaction,
)

CALLEE_URL = "http://playground:8002/stock/sku-1"


@dataclass(frozen=True)
class MidHopSplit:
    caller: str  # the trace api and downstream are in
    callee: str  # the trace the OTel service started
    call_span: str  # downstream's call to it
    callee_span: str  # its root (server) span


def typed(value: Any) -> dict[str, Any]:
    return {"type": "integer" if isinstance(value, int) else "string", "value": value}


def otlp_segment(trace_id: str, span_id: str, start: float, url: str = CALLEE_URL) -> dict[str, Any]:
    attributes = {
        "sentry.op": "http.server",
        "sentry.status.detail": "ok",
        "http.response.status_code": 200,
        "service.name": "playground",
        "otel.kind": "server",
        "sentry.ingest": "otlp",
    }
    return {
        "trace_id": trace_id,
        "span_id": span_id,
        "name": "GET /stock/{sku}",
        "description": f"GET {url}",
        "start_timestamp": start,
        "end_timestamp": start + 0.02,
        "status": "ok",
        "is_segment": True,
        "attributes": {key: typed(value) for key, value in attributes.items()},
    }


def send(http: httpx.Client, relay_url: str, project: Project, body: bytes) -> None:
    response = post_envelope(http, relay_url, body, project=project)
    assert response.status_code == 200, response.text


def send_transaction(http: httpx.Client, relay_url: str, project: Project, tx: dict[str, Any]) -> None:
    send(http, relay_url, project, envelope(item("transaction", tx), event_id=tx["event_id"]))


def send_otlp(http: httpx.Client, relay_url: str, spans: list[dict[str, Any]]) -> None:
    payload = {"items": spans}
    span_item = item("span", payload, item_count=len(spans), content_type="application/vnd.sentry.items.span.v2+json")
    send(http, relay_url, PLAYGROUND, envelope(span_item))  # OTLP carries no envelope header, no DSC


def server_transaction(
    trace_id: str, name: str, span_id: str, parent: str | None, start: float, spans: list[dict[str, Any]]
) -> dict[str, Any]:
    context: dict[str, Any] = {"trace_id": trace_id, "span_id": span_id, "op": "http.server"}
    if parent is not None:
        context["parent_span_id"] = parent
    return transaction(
        trace_id, name, start_timestamp=start, timestamp=start + 0.2, contexts={"trace": context}, spans=spans
    )


def send_mid_hop_split(relay_url: str) -> MidHopSplit:
    t = time.time()
    caller, callee = new_id(), new_id()
    api_span, call, down_span, otel_call, otel_root = (new_id()[:16] for _ in range(5))
    api_call = {
        "span_id": call,
        "parent_span_id": api_span,
        "trace_id": caller,
        "op": "http.client",
        "description": "POST http://downstream:8001/reservations",
        "start_timestamp": t + 0.01,
        "timestamp": t + 0.15,
        "status": "ok",
    }
    down_call = {
        **api_call,
        "span_id": otel_call,
        "parent_span_id": down_span,
        "description": f"GET {CALLEE_URL}",
        "start_timestamp": t + 0.05,
        "timestamp": t + 0.10,
    }
    with httpx.Client(timeout=30) as http:
        send_transaction(http, relay_url, API, server_transaction(caller, "/orders", api_span, None, t, [api_call]))
        down = server_transaction(caller, "/reservations", down_span, call, t + 0.02, [down_call])
        send_transaction(http, relay_url, DOWNSTREAM, down)
        send_otlp(http, relay_url, [otlp_segment(callee, otel_root, t + 0.06)])
    return MidHopSplit(caller, callee, otel_call, otel_root)
