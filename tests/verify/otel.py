"""Crafted traces that cross the Sentry/OpenTelemetry boundary, for the verifier's tests.

The healthy two-hop trace of `builders` (Locust → api → downstream, Sentry SDKs) gets a third
hop: downstream calls catalog, an OpenTelemetry service whose spans arrive over OTLP. Its spans
are stored the way relay-mock's OTLP ingest stores them (docs: OTLP contract, part A): v2 spans
in a `span` item of an envelope record of the project, `sentry.ingest` = "otlp", attributes
typed, `description` "<METHOD> <url>" on HTTP spans. They go through the verifier's own reader
(`bundles_from_rows`), so these tests also check that it reads that shape.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import orjson

from relay_mock.verify.collect import bundles_from_rows
from relay_mock.verify.model import TraceBundle, TransactionFact, WitnessFact
from tests.verify.builders import CONFIG, T0, TwoHop, healthy_trace, span, span_id, with_span

# catalog is a project of relay-mock like the others (its own DSN key).
OTEL_CONFIG = replace(CONFIG, project_ids={**CONFIG.project_ids, "catalog": 3})
CATALOG_CALL, CATALOG_TX, CATALOG_DB, CATALOG_SEND = 0xC0, 0xC1, 0xC2, 0xC3
CATALOG_URL = "http://catalog:8002/stock/sku-1"


def typed(value: Any) -> dict[str, Any]:
    kind = {bool: "boolean", int: "integer", float: "double", str: "string"}[type(value)]
    return {"type": kind, "value": value}


def otel_span(
    trace: str,
    span: str,
    *,
    parent: str | None,
    name: str,
    kind: str,
    op: str,
    start: float,
    end: float,
    segment: bool = False,
    description: str | None = None,
    status: str = "ok",
    detail: str = "ok",
    attributes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One OTel span as OTLP ingest stores it (a v2 span)."""
    attrs = {
        "sentry.op": op,
        "sentry.status.detail": detail,
        "sentry.environment": "sandbox",
        "sentry.release": "catalog@1.0.0",
        "service.name": "catalog",
        "otel.kind": kind,
        "otel.scope.name": "opentelemetry.instrumentation.fastapi",
        "resource.service.name": "catalog",
        "sentry.ingest": "otlp",
        **(attributes or {}),
    }
    stored: dict[str, Any] = {
        "trace_id": trace,
        "span_id": span,
        "name": name,
        "start_timestamp": start,
        "end_timestamp": end,
        "status": status,
        "is_segment": segment,
        "attributes": {key: typed(value) for key, value in attrs.items()},
        "events": [],
        "links": [],
    }
    if parent is not None:
        stored["parent_span_id"] = parent
    if description is not None:
        stored["description"] = description
    return stored


def catalog_spans(n: int, trace: str, *, parent: str | None, start: float) -> list[dict[str, Any]]:
    """catalog's request: the server span (its segment), the ASGI send span and a db query."""
    server = span_id(n, CATALOG_TX)
    return [
        otel_span(
            trace,
            server,
            parent=parent,
            name="GET /stock/{sku}",
            kind="server",
            op="http.server",
            start=start,
            end=start + 0.030,
            segment=True,
            description=f"GET {CATALOG_URL}",
            attributes={"http.request.method": "GET", "http.response.status_code": 200, "url.path": "/stock/sku-1"},
        ),
        otel_span(
            trace,
            span_id(n, CATALOG_DB),
            parent=server,
            name="SELECT stock",
            kind="client",
            op="db",
            start=start + 0.005,
            end=start + 0.015,
            attributes={"db.system.name": "postgresql"},
        ),
        otel_span(
            trace,
            span_id(n, CATALOG_SEND),
            parent=server,
            name="GET /stock/{sku} http send",
            kind="internal",
            op="default",
            start=start + 0.020,
            end=start + 0.025,
        ),
    ]


def otlp_row(project: str, spans: Sequence[dict[str, Any]], *, envelope_id: str, received_at: float) -> dict[str, Any]:
    """The stored record of one OTLP request, as the verifier's collection reads it (a row of
    store.traces.ITEMS_SQL): one `span` item holding every span of the request."""
    return {
        "type": "span",
        "trace_id": spans[0]["trace_id"],
        "project": project,
        "envelope_id": envelope_id,
        "release": None,
        "environment": None,
        "header": "{}",  # an OTLP request has no envelope header, so no DSC
        "received_at": received_at,
        "payload": orjson.dumps({"items": list(spans)}).decode(),
        "event_id": None,
        "span_id": None,
        "parent_span_id": None,
        "name": None,
        "op": None,
        "status": None,
    }


def three_hop(n: int = 1) -> TwoHop:
    """The healthy two-hop trace whose downstream also calls catalog (GET /stock/sku-1)."""
    t = healthy_trace(n)
    assert t.downstream is not None and t.expectation is not None
    call = span(
        n,
        CATALOG_CALL,
        parent=0xD1,
        op="http.client",
        description=f"GET {CATALOG_URL}",
        start=T0 + 0.095,
        end=T0 + 0.135,
    )
    downstream = replace(t.downstream, spans=(*t.downstream.spans, call))
    expectation = replace(t.expectation, expect_services=("api", "downstream", "catalog"))
    return replace(t, downstream=downstream, expectation=expectation)


def catalog_call_id(n: int) -> str:
    return span_id(n, CATALOG_CALL)


def witnesses(t: TwoHop, catalog: WitnessFact | None) -> tuple[WitnessFact, ...]:
    """What Locust records: each service's witness, relayed up the chain (api, downstream, catalog)."""
    n, tid = t.n, t.trace_id
    own = (
        WitnessFact(f"{tid}-{span_id(n, 0xA0)}-1", "api", True, "", tid),
        WitnessFact(f"{tid}-{span_id(n, 0xA3)}-1", "downstream", True, "", tid),
    )
    return (*own, catalog) if catalog is not None else own


def catalog_witness(t: TwoHop, *, joined: str, traceparent: str = "") -> WitnessFact:
    """catalog's witness: it received downstream's sentry-trace; its own span joined `joined`."""
    return WitnessFact(f"{t.trace_id}-{catalog_call_id(t.n)}-1", "catalog", None, traceparent, joined)


def bundles(t: TwoHop, *rows: dict[str, Any]) -> list[TraceBundle]:
    """The trace's Sentry transactions and expectation, with the OTLP rows read by the verifier's reader."""
    read = {b.trace_id: b for b in bundles_from_rows(rows)}
    own = t.bundle()
    mine = read.pop(own.trace_id, None)
    if mine is not None:
        own.transactions += mine.transactions
    return [own, *read.values()]


def catalog_of(found: Sequence[TraceBundle], trace: str) -> TransactionFact:
    bundle = next(b for b in found if b.trace_id == trace)
    return next(tx for tx in bundle.transactions if tx.project == "catalog")


def with_call(t: TwoHop, **changes: Any) -> TwoHop:
    """`t` with downstream's call to catalog changed."""
    return replace(t, downstream=with_span(t.downstream, catalog_call_id(t.n), **changes))
