"""Acknowledged means stored: every 200 is on disk, through concurrent load, a clean restart and
a `kill -9` mid-load; retention caps evict the oldest envelopes first and count what they evicted."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.relay_http.inspector import Inspector
from tests.relay_http.wire import envelope, event_envelope, item, post_envelope
from tests.support.polling import poll
from tests.support.relay_server import RelayMock

MiB = 1024 * 1024


def stored_event_ids(relay_url: str) -> list[str | None]:
    """Event ids of everything stored, oldest first (every page of the listing)."""
    ids: list[str | None] = []
    with Inspector(relay_url) as inspector:
        cursor = None
        while True:
            page = inspector.client.envelopes(order="asc", limit=1000, payloads=False, cursor=cursor)
            ids += [envelope.event_id for envelope in page.envelopes]
            cursor = page.next_cursor
            if cursor is None:
                return ids


def send(http: httpx.Client, relay_url: str) -> str:
    event_id, body = event_envelope()
    response = post_envelope(http, relay_url, body)
    assert response.status_code == 200, response.text
    assert response.json() == {"id": event_id}
    assert response.headers["x-relay-mock-envelope"]
    return event_id


def test_every_envelope_acknowledged_under_concurrent_load_is_stored_once(
    relay: RelayMock, inspector: Inspector
) -> None:
    inspector.clear()
    with httpx.Client(timeout=30, limits=httpx.Limits(max_connections=32)) as http:
        with ThreadPoolExecutor(max_workers=32) as pool:
            acked = list(pool.map(lambda _: send(http, relay.url), range(300)))

    stored = stored_event_ids(relay.url)
    assert sorted(stored, key=str) == sorted(acked)
    assert inspector.stats()["envelopes"]["stored"] == len(acked)


def test_stored_envelopes_survive_a_clean_restart(start_relay: Callable[..., RelayMock], http: httpx.Client) -> None:
    relay = start_relay()
    acked = [send(http, relay.url) for _ in range(20)]

    relay.restart()

    assert stored_event_ids(relay.url) == acked
    with Inspector(relay.url) as inspector:
        assert inspector.stats()["envelopes"]["stored"] == len(acked)


@pytest.mark.parametrize("synchronous", ["FULL", "NORMAL"])
def test_every_envelope_acknowledged_before_a_kill_9_survives_it(
    start_relay: Callable[..., RelayMock], synchronous: str
) -> None:
    # NORMAL skips the fsync but still writes the WAL before the answer: a killed process loses
    # nothing acknowledged (only a crash of the machine could). FULL survives both.
    relay = start_relay(RELAY_SYNCHRONOUS=synchronous)
    acked: list[str] = []
    lock = threading.Lock()

    def sender() -> None:
        # Sends until the relay dies under it; remembers every acknowledged event id.
        with httpx.Client(timeout=10) as http:
            while True:
                event_id, body = event_envelope()
                try:
                    response = post_envelope(http, relay.url, body)
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    with lock:
                        acked.append(event_id)

    senders = [threading.Thread(target=sender) for _ in range(4)]
    for thread in senders:
        thread.start()
    poll(lambda: True if len(acked) >= 300 else None, deadline_s=30, what="300 acknowledged envelopes")

    relay.crash()
    for thread in senders:
        thread.join(timeout=15)
    relay.start()

    survived = set(stored_event_ids(relay.url))
    lost = [event_id for event_id in acked if event_id not in survived]
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged envelopes were lost in the crash"


# ---------------------------------------------------------------- retention

RETAIN_ENVELOPES = 10
RETAIN_BYTES = MiB


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayMock]:
    """A relay-mock keeping at most 10 envelopes and 1 MiB (the smallest caps it accepts)."""
    env = {"RELAY_RETENTION_MAX_ENVELOPES": str(RETAIN_ENVELOPES), "RELAY_RETENTION_MAX_BYTES": str(RETAIN_BYTES)}
    with RelayMock(tmp_path_factory.mktemp("capped"), env=env) as server:
        yield server


def send_sized(http: httpx.Client, relay_url: str, size: int) -> tuple[str, int]:
    """An event plus an attachment of `size` bytes; returns (event id, envelope bytes)."""
    event_id, _ = event_envelope()
    body = envelope(item("event", {"event_id": event_id}), item("attachment", b"x" * size), event_id=event_id)
    response = post_envelope(http, relay_url, body)
    assert response.status_code == 200, response.text
    return event_id, len(body)


def test_the_envelope_cap_evicts_the_oldest_and_counts_them(capped: RelayMock, http: httpx.Client) -> None:
    with Inspector(capped.url) as inspector:
        inspector.clear()
        sent = [send_sized(http, capped.url, 100) for _ in range(RETAIN_ENVELOPES + 5)]

        assert stored_event_ids(capped.url) == [event_id for event_id, _ in sent[5:]]
        stats = inspector.stats()["envelopes"]
    assert (stats["stored"], stats["evicted"]) == (RETAIN_ENVELOPES, 5)
    assert stats["evicted_bytes"] == sum(size for _, size in sent[:5])


def test_the_byte_cap_evicts_the_oldest_and_counts_their_bytes(capped: RelayMock, http: httpx.Client) -> None:
    with Inspector(capped.url) as inspector:
        inspector.clear()
        sent = [send_sized(http, capped.url, 200 * 1024 + i) for i in range(8)]

        total = sum(size for _, size in sent)
        kept = len(sent)
        while sum(size for _, size in sent[len(sent) - kept :]) > RETAIN_BYTES:
            kept -= 1
        assert stored_event_ids(capped.url) == [event_id for event_id, _ in sent[-kept:]]
        stats = inspector.stats()["envelopes"]
    assert stats["bytes"] <= RETAIN_BYTES
    assert (stats["stored"], stats["evicted"]) == (kept, len(sent) - kept)
    assert stats["evicted_bytes"] == total - stats["bytes"]


def test_eviction_survives_a_restart(capped: RelayMock, http: httpx.Client) -> None:
    with Inspector(capped.url) as inspector:
        inspector.clear()
    sent = [send_sized(http, capped.url, 100)[0] for _ in range(RETAIN_ENVELOPES + 3)]

    capped.restart()

    assert stored_event_ids(capped.url) == sent[3:]
    with Inspector(capped.url) as inspector:
        assert inspector.stats()["envelopes"]["evicted"] == 3
