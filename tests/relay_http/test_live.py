"""Live views over HTTP: the blocking /inspect/wait, and the server-sent-events stream with
its replay of what a reconnecting client missed (Last-Event-ID)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from tests.relay_http.inspector import Inspector, plain
from tests.relay_http.wire import PLAYGROUND, new_id, send_event
from tests.support.relay_server import RelayMock

DEADLINE_S = 15


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=2) as executor:
        yield executor


# ---------------------------------------------------------------- /inspect/wait


def test_wait_returns_as_soon_as_the_items_arrive(
    relay: RelayMock, http: httpx.Client, pool: ThreadPoolExecutor
) -> None:
    release = f"awaited@{new_id()}"
    asked = threading.Event()

    def wait() -> tuple[dict[str, Any], float]:
        # Raw httpx: its request hook says when the wait was sent, which relay_mock.client does not.
        with httpx.Client(base_url=relay.url, timeout=60, event_hooks={"request": [lambda _: asked.set()]}) as client:
            params: dict[str, str | int] = {"type": "event", "release": release, "count": 2, "timeout": 30}
            answer = client.get("/inspect/wait", params=params).json()
        return answer, time.monotonic()

    waiting = pool.submit(wait)
    assert asked.wait(DEADLINE_S)
    send_event(http, relay.url, release=release)
    send_event(http, relay.url, release=release)
    acknowledged = time.monotonic()

    answer, returned = waiting.result(timeout=DEADLINE_S)
    assert answer == {"satisfied": True, "count": 2, "wanted": 2}
    assert returned - acknowledged < 2, "the wait must end on arrival, not at its 30 s timeout"


def test_wait_reports_unsatisfied_at_its_timeout(inspector: Inspector) -> None:
    started = time.monotonic()

    answer = plain(inspector.client.wait("event", release=f"never@{new_id()}", timeout=0.5))

    assert answer == {"satisfied": False, "count": 0, "wanted": 1}
    assert 0.5 <= time.monotonic() - started < 5


# ---------------------------------------------------------------- /inspect/stream


@dataclass(frozen=True)
class Sse:
    event: str
    id: str
    data: dict[str, Any]


def read_stream(
    relay_url: str, want: Callable[[Sse], bool], count: int, connected: threading.Event, last_event_id: str = ""
) -> list[Sse]:
    """Read /inspect/stream until `count` wanted events arrived; fail at the deadline. Raw SSE
    lines (comments, ids, Last-Event-ID), which relay_mock.client's stream() parses away."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    timeout = httpx.Timeout(10, read=DEADLINE_S)
    found: list[Sse] = []
    with httpx.stream("GET", f"{relay_url}/inspect/stream", headers=headers, timeout=timeout) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if line == ": connected":
                connected.set()
            elif line.startswith(":"):
                continue
            elif line:
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
            else:
                # A blank line ends an event; one without data (the `retry:` advice) is not dispatched.
                sse = Sse(fields.get("event", ""), fields.get("id", ""), orjson.loads(fields.get("data", "null")))
                has_data, fields = "data" in fields, {}
                if has_data and want(sse):
                    found.append(sse)
                    if len(found) == count:
                        return found
    raise AssertionError(f"the stream ended after {len(found)} of {count} events")


def listen(
    pool: ThreadPoolExecutor, relay_url: str, event_ids: set[str], count: int, last_event_id: str = ""
) -> Future[list[Sse]]:
    """Start reading the stream in a thread; returns once it is connected."""
    connected = threading.Event()
    future = pool.submit(
        read_stream, relay_url, lambda sse: sse.data["event_id"] in event_ids, count, connected, last_event_id
    )
    if not connected.wait(DEADLINE_S):
        future.result(timeout=1)  # surfaces the reader's failure
        raise AssertionError("the stream never said it was connected")
    return future


def new_event_ids(count: int) -> list[str]:
    return [new_id() for _ in range(count)]


def test_the_stream_delivers_an_envelope_event_for_each_new_envelope(
    relay: RelayMock, http: httpx.Client, pool: ThreadPoolExecutor
) -> None:
    ids = new_event_ids(3)
    stream = listen(pool, relay.url, set(ids), count=3)

    for event_id in ids:
        send_event(http, relay.url, project=PLAYGROUND, event_id=event_id)

    events = stream.result(timeout=DEADLINE_S)
    assert [sse.data["event_id"] for sse in events] == ids
    assert {sse.event for sse in events} == {"envelope"}
    assert [sse.id for sse in events] == [str(sse.data["seq"]) for sse in events]
    assert all(sse.data["project"] == {"id": 3, "name": "playground"} for sse in events)
    assert all(sse.data["item_types"] == ["event"] for sse in events)


def test_reconnecting_with_last_event_id_replays_what_was_missed(
    relay: RelayMock, http: httpx.Client, pool: ThreadPoolExecutor
) -> None:
    seen, missed_1, missed_2, live = new_event_ids(4)
    first = listen(pool, relay.url, {seen}, count=1)
    send_event(http, relay.url, event_id=seen)
    [last] = first.result(timeout=DEADLINE_S)  # the client goes away after this event

    send_event(http, relay.url, event_id=missed_1)
    send_event(http, relay.url, event_id=missed_2)
    again = listen(pool, relay.url, {seen, missed_1, missed_2, live}, count=3, last_event_id=last.id)
    send_event(http, relay.url, event_id=live)

    assert [sse.data["event_id"] for sse in again.result(timeout=DEADLINE_S)] == [missed_1, missed_2, live]
