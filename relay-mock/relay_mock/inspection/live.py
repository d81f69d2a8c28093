"""Live views: a blocking wait for tests, and a server-sent-events stream of arrivals."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from relay_mock import models
from relay_mock.inspection.params import args_of, envelope_filter
from relay_mock.inspection.responses import respond
from relay_mock.live import FeedEntry, LiveFeed
from relay_mock.store import envelopes
from relay_mock.store.filters import EnvelopeFilter
from relay_mock.store.read_pool import Reader

KEEPALIVE_S = 15.0


async def wait(request: Request) -> Response:
    """Return once `count` items match the filters, or when `timeout` seconds passed.

    Filters are those of /inspect/envelopes; `type` selects the item type counted.
    """
    reader: Reader = request.app.state.reader
    feed: LiveFeed = request.app.state.feed
    args = args_of(request)
    flt = envelope_filter(args)
    count = args.integer("count")
    timeout = args.number("timeout")
    deadline = time.monotonic() + timeout
    while True:
        found = await reader.run(envelopes.count_items, flt, item_type=flt.item_type)
        remaining = deadline - time.monotonic()
        if found >= count or remaining <= 0:
            return respond(models.WaitResult, {"satisfied": found >= count, "count": found, "wanted": count})
        await feed.changed(min(remaining, 1.0))


REPLAY_MAX = 1000


async def stream(request: Request) -> Response:
    """Server-sent events: one `envelope` event per stored envelope, as it is committed.

    A client that reconnects with `Last-Event-ID` (the last `seq` it saw) first gets what it
    missed meanwhile (up to REPLAY_MAX envelopes), then the live feed.
    """
    feed: LiveFeed = request.app.state.feed
    reader: Reader = request.app.state.reader
    args = args_of(request)
    project = args.text("project")
    item_type = args.text("type")
    last_seen = args.text("Last-Event-ID") or ""

    def wanted(entry: FeedEntry) -> bool:
        if project and project not in (entry.project, str(entry.project_id)):
            return False
        return not item_type or item_type in entry.item_types

    def event(entry: FeedEntry) -> bytes:
        return b"event: envelope\nid: %d\ndata: %s\n\n" % (entry.seq, entry.json)

    async def events() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n: connected\n\n"
        # Subscribe before reading the backlog so nothing falls between the two.
        subscription = feed.subscribe()
        next_event = asyncio.ensure_future(anext(subscription))
        replayed = 0
        if last_seen.isdigit():
            page = await reader.run(
                envelopes.list_envelopes,
                EnvelopeFilter(),
                limit=REPLAY_MAX,
                cursor=int(last_seen),
                newest_first=False,
                payloads=False,
            )
            for entry in map(FeedEntry.of, page.envelopes):
                replayed = entry.seq
                if wanted(entry):
                    yield event(entry)
        try:
            while True:
                done, _ = await asyncio.wait({next_event}, timeout=KEEPALIVE_S)
                if not done:
                    yield b": keep-alive\n\n"
                    continue
                try:
                    entry = next_event.result()
                except StopAsyncIteration:
                    return
                next_event = asyncio.ensure_future(anext(subscription))
                if entry.seq > replayed and wanted(entry):
                    yield event(entry)
        finally:
            next_event.cancel()
            await subscription.aclose()

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )
