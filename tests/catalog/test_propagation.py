"""How catalog reads and writes trace context, per CATALOG_PROPAGATION, with its real OTel setup:

- `sentry` (sentry-sdk's OTLPIntegration and Sentry's propagator) continues a `sentry-trace`
  caller's trace and ignores `traceparent`;
- `w3c` (plain OpenTelemetry) continues `traceparent` and ignores `sentry-trace`: a Sentry SDK
  caller's trace splits there.

The witness says what came in and which trace catalog's server span joined; the log line of
each lookup carries that span's ids; an outgoing httpx call carries the mode's headers only."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import cast

import httpx
import pytest
from opentelemetry import trace
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncEngine

from servicekit.witness import WITNESS_HEADER
from tests.catalog.conftest import StartCatalog

pytestmark = pytest.mark.anyio

TRACE_ID = "0123456789abcdef0123456789abcdef"
PARENT = "89abcdef01234567"
SENTRY_HEADERS = {
    "sentry-trace": f"{TRACE_ID}-{PARENT}-1",
    "baggage": f"sentry-trace_id={TRACE_ID},sentry-public_key=abc,sentry-sample_rate=1.0,sentry-sampled=true",
}
W3C_HEADERS = {"traceparent": f"00-{TRACE_ID}-{PARENT}-01", "tracestate": "vendor=x"}


def _hex(value: int, width: int) -> str:
    return f"{value:0{width}x}"


@pytest.mark.parametrize(("propagation", "headers"), [("sentry", SENTRY_HEADERS), ("w3c", W3C_HEADERS)])
async def test_catalog_continues_the_format_it_reads(
    start_catalog: StartCatalog, propagation: str, headers: dict[str, str]
) -> None:
    catalog = start_catalog(propagation)
    async with catalog.client() as client:
        response = await client.get("/stock/SKU-1", headers=headers)

    assert response.status_code == 200 and response.json() == {"sku": "SKU-1", "available": 7}
    span = catalog.server_span()
    assert _hex(span.context.trace_id, 32) == TRACE_ID
    assert span.parent is not None and _hex(span.parent.span_id, 16) == PARENT and span.parent.is_remote
    assert span.attributes["http.route"] == "/stock/{sku}"
    assert span.resource.attributes["service.name"] == "catalog"
    witness = json.loads(response.headers[WITNESS_HEADER])
    assert witness == [
        {
            "service": "catalog",
            "received": headers.get("sentry-trace", ""),
            "sampled": True,
            "traceparent": headers.get("traceparent", ""),
            "trace_id": TRACE_ID,
        }
    ]


@pytest.mark.parametrize(("propagation", "headers"), [("sentry", W3C_HEADERS), ("w3c", SENTRY_HEADERS)])
async def test_context_in_the_other_format_splits_the_trace(
    start_catalog: StartCatalog, propagation: str, headers: dict[str, str]
) -> None:
    catalog = start_catalog(propagation)
    async with catalog.client() as client:
        response = await client.get("/stock/SKU-1", headers=headers)

    span = catalog.server_span()
    own = _hex(span.context.trace_id, 32)
    assert own != TRACE_ID and span.parent is None  # a new trace, rooted at catalog
    witness = json.loads(response.headers[WITNESS_HEADER])[0]
    assert witness["trace_id"] == own
    assert witness["received"] == headers.get("sentry-trace", "")
    assert witness["traceparent"] == headers.get("traceparent", "")


@pytest.mark.parametrize("propagation", ["sentry", "w3c"])
async def test_each_lookup_logs_a_line_with_its_trace_and_span(start_catalog: StartCatalog, propagation: str) -> None:
    catalog = start_catalog(propagation)
    headers = SENTRY_HEADERS if propagation == "sentry" else W3C_HEADERS
    async with catalog.client() as client:
        found = await client.get("/stock/SKU-1", headers=headers)
        unknown = await client.get("/stock/NOPE", headers=headers)

    assert found.status_code == 200 and unknown.status_code == 404
    assert unknown.json() == {"error": "not_found", "detail": "unknown sku NOPE"}
    servers = {s.context.span_id: s for s in catalog.spans.get_finished_spans() if s.kind.name == "SERVER"}
    records = [r.log_record for r in catalog.logs.get_finished_logs()]
    assert [r.body for r in records] == ["stock lookup: SKU-1 has 7 available", "stock lookup: unknown sku NOPE"]
    for record in records:
        assert _hex(record.trace_id or 0, 32) == TRACE_ID
        assert record.span_id in servers  # the request's server span
        assert record.attributes is not None and record.attributes["sku"] in {"SKU-1", "NOPE"}
    assert records[0].attributes is not None and records[0].attributes["available"] == 7


@pytest.fixture
def next_hop() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A real HTTP server on loopback that records each request's headers (OpenTelemetry's httpx
    instrumentation wraps httpx's real transports, so the call must go over one)."""
    seen: list[dict[str, str]] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({key.lower(): value for key, value in self.headers.items()})
            self.send_response(200)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("propagation", "sent", "not_sent"),
    [("sentry", "sentry-trace", "traceparent"), ("w3c", "traceparent", "sentry-trace")],
)
async def test_an_outgoing_httpx_call_carries_the_modes_headers_only(
    start_catalog: StartCatalog, next_hop: tuple[str, list[dict[str, str]]], propagation: str, sent: str, not_sent: str
) -> None:
    catalog = start_catalog(propagation)
    url, seen = next_hop
    tracer = catalog.telemetry.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("work") as work:
        async with httpx.AsyncClient() as client:
            assert (await client.get(f"{url}/stock/SKU-1")).status_code == 200
        trace_id = trace.format_trace_id(work.get_span_context().trace_id)

    (headers,) = seen
    assert not_sent not in headers, headers
    value = headers[sent]
    assert trace_id in value, value
    clients = [s for s in catalog.spans.get_finished_spans() if s.kind.name == "CLIENT"]
    assert len(clients) == 1 and trace.format_span_id(clients[0].context.span_id) in value


@pytest.mark.parametrize("propagation", ["sentry", "w3c"])
def test_each_query_is_a_span_of_the_request(start_catalog: StartCatalog, propagation: str) -> None:
    """The SQLAlchemy instrumentation on the installed SQLAlchemy (2.1, newer than it declares):
    a query inside a request's span is a client span with `db.system`, its child. (SQLite here;
    catalog's engine is the same SQLAlchemy engine on asyncpg.)"""
    catalog = start_catalog(propagation)
    engine = create_engine("sqlite://")
    catalog.telemetry.instrument_engine(cast(AsyncEngine, SimpleNamespace(sync_engine=engine)))
    tracer = catalog.telemetry.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("request") as request, engine.connect() as conn:
        conn.execute(text("SELECT 1"))

    queries = [s for s in catalog.spans.get_finished_spans() if (s.attributes or {}).get("db.statement")]
    assert [q.attributes["db.system"] for q in queries if q.attributes] == ["sqlite"]
    assert queries[0].parent is not None and queries[0].parent.span_id == request.get_span_context().span_id
