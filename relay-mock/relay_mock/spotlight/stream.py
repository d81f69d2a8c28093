"""`GET /stream`: every envelope relay-mock stores, as Spotlight's sidecar streams them
(Server-Sent Events; spotlight/events.py has the event's shape).

- A new reader first gets the newest BACKLOG envelopes (Spotlight's sidecar replays its whole
  buffer, 500 envelopes, to a new reader; `?backlog=N` asks for another number, 0 for none),
  then each envelope as it is committed, whoever sent it (`/api/<id>/envelope/`, `/store/`,
  `/stream`).
- `Last-Event-ID` (what EventSource sends when it reconnects) replays everything stored after
  that envelope, then goes live: nothing lost, nothing twice.
- `?base64` names the events `application/x-sentry-envelope;base64`, as Spotlight does; `?client=`
  names the reader in Spotlight and is accepted and ignored here.
- Each reader has a bounded queue (QUEUE_SIZE envelopes). One that cannot keep up is told (an
  event named `relay-mock.behind`, which Spotlight's clients ignore) and reads what it missed
  from the store, in pages, at its own pace: a slow reader never slows ingest, and what it costs
  is bounded by its queue and one page.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from relay_mock.inspection.params import int_param
from relay_mock.live import LiveFeed, RecordSubscription
from relay_mock.spotlight.events import CONTENT_TYPE, StreamEvent, stream_event
from relay_mock.store import envelopes
from relay_mock.store.read_pool import Reader
from relay_mock.store.records import EnvelopeRecord, rowid_of

BACKLOG = 500
QUEUE_SIZE = 100
PAGE = 100
KEEPALIVE_S = 15.0
# Envelopes up to this size are turned into their event on the event loop; larger ones in a thread.
INLINE_RAW_MAX = 64 * 1024


async def stream(request: Request) -> Response:
    feed: LiveFeed = request.app.state.feed
    reader: Reader = request.app.state.reader
    event_name = (CONTENT_TYPE + (";base64" if "base64" in request.query_params else "")).encode()
    backlog = int_param(request, "backlog", BACKLOG, low=0, high=100_000)
    last_seen = rowid_of(request.headers.get("last-event-id", "").strip())

    async def events() -> AsyncIterator[bytes]:
        # Subscribe before reading the store, so nothing committed meanwhile falls between the two.
        subscription = feed.subscribe_records(QUEUE_SIZE)
        published = feed.last_rowid  # everything after it comes through the queue
        try:
            yield b"retry: 2000\n: relay-mock, Spotlight's /stream\n\n"
            position = (
                last_seen
                if last_seen is not None
                else await reader.run(envelopes.rowid_before_newest, backlog, upto=published)
            )
            while True:
                async for chunk in _from_store(reader, position):
                    position = chunk.rowid
                    yield chunk.sse(event_name)
                async for record in _live(subscription):
                    if record is None:  # keep-alive: nothing for a while
                        yield b": keep-alive\n\n"
                        continue
                    if record.rowid <= position:  # already sent from the store
                        continue
                    sent = await _event(record)
                    position = sent.rowid
                    yield sent.sse(event_name)
                if subscription.closed:
                    return
                # The queue ran dry with the reader behind: say so, then catch up from the store.
                yield b"event: relay-mock.behind\ndata: %s\n\n" % orjson.dumps(
                    {"detail": "this reader fell behind; what it missed follows from the store", "after": position}
                )
                subscription.behind = False
        finally:
            feed.unsubscribe_records(subscription)

    return StreamingResponse(
        events(),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


async def _from_store(reader: Reader, position: int) -> AsyncIterator[StreamEvent]:
    while True:
        page = await reader.run(_events_after, position)
        for event in page:
            yield event
        if len(page) < PAGE:
            return
        position = page[-1].rowid


def _events_after(conn: sqlite3.Connection, position: int) -> list[StreamEvent]:
    return [stream_event(record) for record in envelopes.records_after(conn, position, limit=PAGE)]


async def _live(subscription: RecordSubscription) -> AsyncIterator[EnvelopeRecord | None]:
    """The subscription's records until it is closed or its queue ran dry while it was behind;
    None after KEEPALIVE_S without any."""
    queue = subscription.queue
    while not subscription.closed:
        if subscription.behind and queue.empty():
            return
        try:
            record = await asyncio.wait_for(queue.get(), KEEPALIVE_S)
        except TimeoutError:
            yield None
            continue
        if record is None:
            return
        yield record


async def _event(record: EnvelopeRecord) -> StreamEvent:
    if len(record.raw) <= INLINE_RAW_MAX:
        return stream_event(record)
    return await asyncio.to_thread(stream_event, record)
