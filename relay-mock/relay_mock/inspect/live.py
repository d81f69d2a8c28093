"""Live views: a blocking wait for tests, and a server-sent-events stream of arrivals."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from relay_mock.inspect.params import envelope_filter, float_param, int_param
from relay_mock.inspect.responses import ORJSONResponse
from relay_mock.live import LiveFeed
from relay_mock.store import reader as queries
from relay_mock.store.reader import Reader

KEEPALIVE_S = 15.0


async def wait(request: Request) -> Response:
    """Return once `count` items match the filters, or when `timeout` seconds passed.

    Filters are those of /inspect/envelopes; `type` selects the item type counted.
    """
    reader: Reader = request.app.state.reader
    feed: LiveFeed = request.app.state.feed
    flt = envelope_filter(request)
    count = int_param(request, "count", 1, low=1, high=1_000_000) or 1
    timeout = float_param(request, "timeout", 10.0, low=0.0, high=300.0)
    deadline = time.monotonic() + timeout
    while True:
        found = await reader.run(queries.count_items, flt, item_type=flt.item_type)
        remaining = deadline - time.monotonic()
        if found >= count or remaining <= 0:
            return ORJSONResponse({"satisfied": found >= count, "count": found, "wanted": count})
        await feed.changed(min(remaining, 1.0))


async def stream(request: Request) -> Response:
    """Server-sent events: one `envelope` event per stored envelope, as it is committed."""
    feed: LiveFeed = request.app.state.feed
    project = request.query_params.get("project")
    item_type = request.query_params.get("type")

    async def events() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n: connected\n\n"
        subscription = feed.subscribe()
        next_event = asyncio.ensure_future(anext(subscription))
        try:
            while True:
                done, _ = await asyncio.wait({next_event}, timeout=KEEPALIVE_S)
                if not done:
                    yield b": keep-alive\n\n"
                    continue
                try:
                    summary = next_event.result()
                except StopAsyncIteration:
                    return
                next_event = asyncio.ensure_future(anext(subscription))
                if project and project not in (summary["project"]["name"], str(summary["project"]["id"])):
                    continue
                if item_type and item_type not in summary["item_types"]:
                    continue
                yield b"event: envelope\nid: %d\ndata: %s\n\n" % (summary["seq"], orjson.dumps(summary))
        finally:
            next_event.cancel()
            await subscription.aclose()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


routes = [
    Route("/inspect/wait", wait, methods=["GET"]),
    Route("/inspect/stream", stream, methods=["GET"]),
]
