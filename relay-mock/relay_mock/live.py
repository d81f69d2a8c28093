"""What just arrived: a fan-out of committed envelopes to live subscribers (the SSE
stream, the UI, `make tail`) and a change signal for blocking waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

from relay_mock.models import as_json
from relay_mock.store.envelopes import envelope_model
from relay_mock.store.records import EnvelopeRecord

QUEUE_SIZE = 1000


def envelope_summary(record: EnvelopeRecord) -> dict[str, Any]:
    """The same shape as an entry of /inspect/envelopes?payloads=false (one builder makes both)."""
    return as_json(envelope_model(record, raw_size=len(record.raw), payloads=False))


class LiveFeed:
    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any] | None]] = set()
        self._changed = asyncio.Event()

    def publish(self, records: list[EnvelopeRecord]) -> None:
        """Called on the event loop after each group commit."""
        if self._subscribers:
            summaries = [envelope_summary(record) for record in records]
            for queue in list(self._subscribers):
                for summary in summaries:
                    if queue.full():
                        # A subscriber that cannot keep up loses the oldest, and is told so.
                        queue.get_nowait()
                        summary = {**summary, "lagged": True}
                    queue.put_nowait(summary)
        self._changed.set()
        self._changed = asyncio.Event()

    async def changed(self, timeout: float) -> bool:
        """Wait until the next commit (or the timeout); True when something arrived."""
        try:
            await asyncio.wait_for(self._changed.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def subscribe(self) -> AsyncGenerator[dict[str, Any], None]:
        queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue(QUEUE_SIZE)
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
        for queue in list(self._subscribers):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(None)
