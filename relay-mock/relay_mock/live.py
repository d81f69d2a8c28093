"""What just arrived: a fan-out of committed envelopes to live subscribers (the SSE
stream, the UI, `make tail`) and a change signal for blocking waits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

from relay_mock.store.envelopes import item_summary
from relay_mock.store.records import EnvelopeRecord
from relay_mock.store.values import iso

QUEUE_SIZE = 1000


def envelope_summary(record: EnvelopeRecord) -> dict[str, Any]:
    """The same shape as an entry of /inspect/envelopes?payloads=false."""
    return {
        "id": record.envelope_id,
        "seq": record.rowid,
        "received_at": iso(record.received_at),
        "received_ts": record.received_at,
        "project": {"id": record.project_id, "name": record.project},
        "event_id": record.event_id,
        "trace_id": record.trace_id,
        "header": record.header,
        "item_types": [item.type for item in record.items],
        "request": {
            "endpoint": record.endpoint,
            "path": record.path,
            "public_key": record.public_key,
            "auth": record.auth_form,
            "sdk_client": record.sdk_client,
            "content_encoding": record.content_encoding,
            "compressed_size": record.compressed_size,
            "raw_size": len(record.raw),
            "user_agent": record.user_agent,
            "remote_addr": record.remote_addr,
        },
        "items": [
            item_summary(
                type=item.type,
                event_id=item.event_id,
                trace_id=item.trace_id,
                name=item.name,
                op=item.op,
                status=item.status,
                level=item.level,
                release=item.release,
                environment=item.environment,
                server_name=item.server_name,
                summary=item.summary,
                problem=item.problem,
            )
            for item in record.items
        ],
    }


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
