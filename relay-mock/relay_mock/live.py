"""What just arrived: a fan-out of committed envelopes to live subscribers (the SSE
stream, the UI, `make tail`) and a change signal for blocking waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from relay_mock.models import Envelope
from relay_mock.store.envelopes import envelope_model
from relay_mock.store.records import EnvelopeRecord

QUEUE_SIZE = 1000
LAGGED = b',"lagged":true}'


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One committed envelope as the live feed sends it: the `Envelope` the lists show (one builder
    makes both), dumped to JSON once and shared by every subscriber, and what the stream filters on."""

    seq: int
    project_id: int | None
    project: str | None
    item_types: list[str]
    json: bytes

    @classmethod
    def of(cls, envelope: Envelope) -> FeedEntry:
        # The dump the API's `as_json` makes (unset fields left out), as JSON bytes in one step.
        data = Envelope.__pydantic_serializer__.to_json(envelope, exclude_unset=True)
        return cls(envelope.seq, envelope.project.id, envelope.project.name, envelope.item_types, data)

    def lagged(self) -> FeedEntry:
        """The same envelope, marked: the subscriber lost older ones (`"lagged": true` ends the object)."""
        return FeedEntry(self.seq, self.project_id, self.project, self.item_types, self.json[:-1] + LAGGED)


def feed_entry(record: EnvelopeRecord) -> FeedEntry:
    """A committed envelope as an entry of /inspect/envelopes?payloads=false shows it."""
    return FeedEntry.of(envelope_model(record, raw_size=len(record.raw), payloads=False))


class RecordSubscription:
    """A reader of committed records with a bounded queue (Spotlight's `/stream`). When the queue
    is full the feed stops filling it and marks it `behind`, rather than dropping some entries
    or growing: the reader, once it has drained the queue, reads what it missed from the store
    (every record is committed before it is published), so it loses nothing, and a slow reader
    costs neither memory beyond its queue nor time on the ingest path."""

    def __init__(self, size: int) -> None:
        self.queue: asyncio.Queue[EnvelopeRecord | None] = asyncio.Queue(size)
        self.behind = False
        self.closed = False

    def offer(self, record: EnvelopeRecord) -> None:
        if self.behind:
            return
        if self.queue.full():
            self.behind = True
            return
        self.queue.put_nowait(record)


class LiveFeed:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[FeedEntry | None]] = set()
        self._record_subscribers: set[RecordSubscription] = set()
        self._changed = asyncio.Event()
        # The newest envelope published (set from the store at start): a new subscriber gets every
        # envelope after it through its queue, and what came up to it from the store.
        self.last_rowid = 0

    def subscribe_records(self, size: int) -> RecordSubscription:
        """A bounded subscription to committed records; `unsubscribe_records` ends it."""
        subscription = RecordSubscription(size)
        self._record_subscribers.add(subscription)
        return subscription

    def unsubscribe_records(self, subscription: RecordSubscription) -> None:
        self._record_subscribers.discard(subscription)

    def publish(self, records: list[EnvelopeRecord]) -> None:
        """Called on the event loop after each group commit."""
        if records:
            self.last_rowid = max(self.last_rowid, records[-1].rowid)
        for subscription in self._record_subscribers:
            for record in records:
                subscription.offer(record)
        if self._subscribers:
            entries = [feed_entry(record) for record in records]
            for queue in list(self._subscribers):
                for entry in entries:
                    if queue.full():
                        # A subscriber that cannot keep up loses the oldest, and is told so.
                        queue.get_nowait()
                        entry = entry.lagged()
                    queue.put_nowait(entry)
        self._changed.set()
        self._changed = asyncio.Event()

    async def changed(self, timeout: float) -> bool:
        """Wait until the next commit (or the timeout); True when something arrived."""
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def subscribe(self) -> AsyncGenerator[FeedEntry, None]:
        queue: asyncio.Queue[FeedEntry | None] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        try:
            while True:
                summary = await queue.get()
                if summary is None:
                    return
                yield summary
        finally:
            self._subscribers.discard(queue)

    def close(self) -> None:
        for subscription in self._record_subscribers:
            subscription.closed = True
            if subscription.queue.full():
                subscription.queue.get_nowait()
            subscription.queue.put_nowait(None)
        for queue in list(self._subscribers):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)
