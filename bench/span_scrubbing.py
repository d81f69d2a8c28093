"""What scrubbing a streamed span costs (`before_send_span`, SENTRY_TRACE_LIFECYCLE=stream).

The spans are real: one request to a service app built by servicekit, in stream mode, with an
outgoing httpx call and an inner span like api's POST /orders, captured as the SDK hands them to
the hook. Then the hook is timed alone on copies of them (it changes a span in place), in CPU
time. Run by `scripts/py.sh -m bench.overhead --stages`.
"""

from __future__ import annotations

import asyncio
import copy
import time
from typing import Any

import httpx
import sentry_sdk
from fastapi import APIRouter
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport
from sqlalchemy import MetaData

from servicekit import sentry as service_sentry
from servicekit.app import create_service_app
from servicekit.settings import ServiceSettings
from servicekit.tracing import sentry_span

HOST = "bench.invalid"


class _Discard(Transport):
    def capture_envelope(self, envelope: Envelope) -> None:
        pass


def _order_request_spans() -> list[dict[str, Any]]:
    """The span JSON of one POST /orders-like request, as `before_send_span` receives it."""
    seen: list[dict[str, Any]] = []
    scrub_span = service_sentry.scrub_span

    def recording(span: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
        seen.append(copy.deepcopy(span))
        return scrub_span(span, hint)

    settings = ServiceSettings(
        service_name="api",
        app_version="1.0.0",
        environment="bench",
        sentry_dsn=f"http://0123456789abcdef0123456789abcdef@{HOST}/1",
        sentry_mcp_url=None,
        sentry_trace_lifecycle="stream",
    )
    router = APIRouter()

    @router.post("/orders")
    async def orders() -> dict[str, int]:
        with sentry_span("db.query", "INSERT INTO orders (sku, quantity) VALUES ($1, $2)"):
            pass
        downstream = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(201, json={"ok": 1})))
        async with downstream:
            await downstream.post("http://downstream:8001/reservations", json={"sku": "SKU-1"})
        return {"quantity": 2}

    async def serve() -> None:
        app = create_service_app(settings, title="t", description="t", metadata=MetaData(schema="t"), routers=[router])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=f"http://{HOST}") as client:
            response = await client.post(
                "/orders",
                json={"sku": "SKU-1", "quantity": 2},
                headers={"authorization": "Bearer not-a-real-token", "x-request-id": "bench"},
            )
            response.raise_for_status()

    service_sentry.scrub_span = recording  # configure_sentry installs whatever the name holds
    try:
        service_sentry.configure_sentry(settings, transport=_Discard)
        asyncio.run(serve())
        sentry_sdk.flush()
    finally:
        service_sentry.scrub_span = scrub_span
        sentry_sdk.get_client().close()
    return seen


def span_scrubbing_cost(repeat: int = 2000) -> tuple[float, int, int]:
    """Mean µs of CPU per span, the spans of one request, and their attributes in all."""
    spans = _order_request_spans()
    copies = [copy.deepcopy(spans) for _ in range(repeat)]
    started = time.process_time()
    for request in copies:
        for span in request:
            service_sentry.scrub_span(span, {})
    elapsed = time.process_time() - started
    return elapsed * 1e6 / (repeat * len(spans)), len(spans), sum(len(span["attributes"]) for span in spans)
