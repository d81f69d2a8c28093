"""relay-mock as a Spotlight sidecar (issue 20): the SDKs' `spotlight` option posts to
`POST /stream`, and `GET /stream` streams every stored envelope as Spotlight's clients read it.

Clients no one here wrote: sentry-python with `spotlight=` and no DSN, @sentry/node with its
`spotlight` option; the stream is read raw (httpx), as EventSource reads it."""

from __future__ import annotations

import base64
import gzip
import threading
import time
import zlib
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import brotli
import httpx
import orjson
import pytest

from tests.relay_http.inspector import Inspector
from tests.relay_http.javascript import JavaScriptSdks, run_node
from tests.relay_http.sdk import run_sdk
from tests.relay_http.wire import API, DOWNSTREAM, envelope, event, item, new_id, post_envelope, send_event
from tests.support.relay_server import RelayMock

DEADLINE_S = 15
CONTENT_TYPE = "application/x-sentry-envelope"
LOG = {"timestamp": 1_800_000_000.5, "level": "info", "body": "hello", "attributes": {}, "trace_id": "b" * 32}
LOGS = {"version": 2, "items": [LOG]}


@pytest.fixture(scope="module")
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=3) as executor:
        yield executor


def post_stream(http: httpx.Client, relay_url: str, body: bytes, **headers: str) -> httpx.Response:
    return http.post(f"{relay_url}/stream", content=body, headers={"content-type": CONTENT_TYPE, **headers})


def stored(inspector: Inspector, event_id: str) -> dict[str, Any]:
    inspector.wait("event", event_id=event_id, timeout_s=DEADLINE_S)
    return inspector.envelope(event_id=event_id)


# ---------------------------------------------------------------- POST /stream: the SDKs' spotlight option


def test_sentry_python_with_spotlight_and_no_dsn_is_stored_as_the_spotlight_project(
    relay: RelayMock, inspector: Inspector
) -> None:
    release = f"spot@{new_id()}"

    sent = run_sdk("", "error", "transaction", spotlight=f"{relay.url}/stream", release=release)

    [event_id] = sent["errors"]
    envelope_ = stored(inspector, event_id)
    assert envelope_["project"] == {"id": 0, "name": "spotlight"}
    assert envelope_["request"]["endpoint"] == "stream"
    assert envelope_["request"]["auth"] == "spotlight"
    assert inspector.wait("transaction", release=release, timeout_s=DEADLINE_S) == 1
    # The spotlight project is one like the others for the lists' filters, by name and by id.
    for project in ("spotlight", "0"):
        assert [e["event_id"] for e in inspector.envelopes(project=project, event_id=event_id)] == [event_id]


def test_sentry_python_with_a_dsn_and_spotlight_stores_the_stream_copy_under_the_dsns_project(
    relay: RelayMock, inspector: Inspector
) -> None:
    """An SDK with both sends each envelope twice (DSN and sidecar); the sidecar's copy is
    attributed to the project the envelope header's dsn names."""
    sent = run_sdk(API.dsn(relay.url), "error", spotlight=f"{relay.url}/stream", release=f"both@{new_id()}")

    [event_id] = sent["errors"]
    inspector.wait("event", event_id=event_id, count=2, timeout_s=DEADLINE_S)
    copies = inspector.envelopes(event_id=event_id)
    assert sorted((c["request"]["endpoint"], c["project"]["name"]) for c in copies) == [
        ("envelope", "api"),
        ("stream", "api"),
    ]


def test_sentry_node_with_spotlight_sends_its_envelopes_to_stream_too(
    relay: RelayMock, inspector: Inspector, js_sdks: JavaScriptSdks
) -> None:
    """@sentry/node captures nothing without a DSN (its client is disabled), so it gets one; its
    Spotlight integration posts each envelope to /stream as well, attributed by the header's dsn."""
    release = f"node-spot@{new_id()}"

    sent = run_node(js_sdks, DOWNSTREAM.dsn(relay.url), release, "static", spotlight=f"{relay.url}/stream")

    inspector.wait("event", event_id=sent["eventId"], count=2, timeout_s=DEADLINE_S)
    copies = inspector.envelopes(event_id=sent["eventId"])
    assert sorted((c["request"]["endpoint"], c["project"]["name"]) for c in copies) == [
        ("envelope", "downstream"),
        ("stream", "downstream"),
    ]
    assert inspector.wait("transaction", release=release, count=2, timeout_s=DEADLINE_S) == 2


@pytest.mark.parametrize(
    ("header", "project"),
    [
        ({"dsn": DOWNSTREAM.dsn("http://relay-mock:9000")}, "downstream"),
        ({"trace": {"trace_id": "a" * 32, "public_key": API.key}}, "api"),
        ({"dsn": "http://0123456789abcdef0123456789abcdef@sentry.example/42"}, "spotlight"),
        ({}, "spotlight"),
    ],
    ids=["header-dsn", "dsc-public-key", "unknown-key", "none"],
)
def test_stream_envelopes_go_to_the_project_their_header_names_when_relay_mock_knows_it(
    relay: RelayMock, inspector: Inspector, http: httpx.Client, header: dict[str, Any], project: str
) -> None:
    payload = event()
    body = envelope(item("event", payload), event_id=payload["event_id"], **header)

    response = post_stream(http, relay.url, body)

    assert response.status_code == 200, response.text
    assert stored(inspector, payload["event_id"])["project"]["name"] == project


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [("gzip", gzip.compress), ("deflate", zlib.compress), ("br", brotli.compress)],
)
def test_stream_takes_compressed_bodies(
    relay: RelayMock, inspector: Inspector, http: httpx.Client, encoding: str, compress: Any
) -> None:
    payload = event()
    body = envelope(item("event", payload), event_id=payload["event_id"])

    response = post_stream(http, relay.url, compress(body), **{"content-encoding": encoding})

    assert response.status_code == 200, response.text
    assert stored(inspector, payload["event_id"])["request"]["content_encoding"] == encoding


@pytest.mark.parametrize(
    ("body", "headers", "status", "reason"),
    [
        (b'{"event_id": "not json\n', {}, 400, "malformed"),
        (b"not gzip at all", {"content-encoding": "gzip"}, 400, "undecodable"),
        (b"{}\n" + b"x" * 2048, {}, 413, "too_large"),
    ],
    ids=["bad-header", "bad-gzip", "too-large"],
)
def test_bad_input_on_stream_is_refused_as_on_envelope(
    start_relay: Any, http: httpx.Client, body: bytes, headers: dict[str, str], status: int, reason: str
) -> None:
    relay = start_relay(RELAY_MAX_COMPRESSED_BYTES="1024")

    on_stream = post_stream(http, relay.url, body, **headers)
    on_envelope = post_envelope(http, relay.url, body, headers=headers)

    assert on_stream.status_code == on_envelope.status_code == status
    assert on_stream.json()["detail"] == on_envelope.json()["detail"]
    assert on_stream.json()["causes"]
    with Inspector(relay.url) as inspector:
        refusals = inspector.wait_refusals(2)
        assert {r["path"] for r in refusals} == {"/stream", API.envelope_url("")}
        assert len({r["reason"] for r in refusals}) == 1, refusals
        assert reason in refusals[0]["reason"]
        assert inspector.stats()["envelopes"]["stored"] == 0


# ---------------------------------------------------------------- GET /stream: Spotlight's SSE


@dataclass(frozen=True)
class Sse:
    event: str
    id: str
    data: Any


def sse_events(response: httpx.Response, deadline_s: float = DEADLINE_S) -> Iterator[Sse]:
    """Dispatched events, as EventSource dispatches them (comments and data-less blocks skipped);
    fails at the deadline (keep-alive comments would otherwise keep a read going for ever)."""
    deadline = time.monotonic() + deadline_s
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if time.monotonic() > deadline:
            raise AssertionError(f"no more events within {deadline_s}s")
        if line.startswith(":"):
            continue
        if line:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")
            continue
        if "data" in fields:
            yield Sse(fields.get("event", "message"), fields.get("id", ""), orjson.loads(fields["data"]))
        fields = {}


def event_ids_in(sse: Sse) -> list[str | None]:
    return [payload.get("event_id") for _, payload in sse.data[1] if isinstance(payload, dict)]


def read_stream(
    relay_url: str,
    wanted: set[str],
    *,
    connected: threading.Event,
    query: str = "?backlog=0",
    last_event_id: str = "",
) -> list[Sse]:
    """Read /stream until an event for each wanted event id arrived (others are skipped)."""
    headers = {"Last-Event-ID": last_event_id} if last_event_id else {}
    found: list[Sse] = []
    timeout = httpx.Timeout(10, read=DEADLINE_S)
    with httpx.stream("GET", f"{relay_url}/stream{query}", headers=headers, timeout=timeout) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        connected.set()
        for sse in sse_events(response):
            if wanted & set(event_ids_in(sse)):
                found.append(sse)
                if {i for s in found for i in event_ids_in(s)} >= wanted:
                    return found
    raise AssertionError(f"the stream ended after {len(found)} events")


def listen(pool: ThreadPoolExecutor, relay_url: str, wanted: set[str], **options: Any) -> Future[list[Sse]]:
    connected = threading.Event()
    future = pool.submit(read_stream, relay_url, wanted, connected=connected, **options)
    if not connected.wait(DEADLINE_S):
        future.result(timeout=1)
        raise AssertionError("the stream never answered")
    return future


def test_stream_carries_every_stored_envelope_in_spotlights_shape(
    relay: RelayMock, http: httpx.Client, pool: ThreadPoolExecutor
) -> None:
    attachment = item("attachment", b"\x00\x01binary", filename="dump.bin")
    by_dsn, by_stream = new_id(), new_id()
    reading = listen(pool, relay.url, {by_dsn, by_stream})

    send_event(http, relay.url, event_id=by_dsn)
    payload = event(event_id=by_stream)
    body = envelope(item("event", payload), attachment, item("log", LOGS, item_count=1), event_id=by_stream)
    assert post_stream(http, relay.url, body).status_code == 200

    first, second = reading.result(timeout=DEADLINE_S)
    assert first.event == second.event == CONTENT_TYPE
    header, items = second.data
    assert header["event_id"] == by_stream
    assert header["__spotlight_envelope_id"] == second.id
    assert header["__relay_mock"]["project"] == "spotlight"
    assert first.data[0]["__relay_mock"]["project"] == "api"
    [(event_header, event_payload), (attachment_header, attachment_payload), (_, log_payload)] = items
    assert event_header["type"] == "event"
    assert event_payload["event_id"] == by_stream and event_payload["type"] == "event"
    assert attachment_header["filename"] == "dump.bin"
    assert attachment_payload == {"data": base64.b64encode(b"\x00\x01binary").decode()}
    assert log_payload == {**LOGS, "type": "log"}


def test_the_base64_variant_names_its_events_so(relay: RelayMock, http: httpx.Client, pool: ThreadPoolExecutor) -> None:
    event_id = new_id()
    reading = listen(pool, relay.url, {event_id}, query="?base64&backlog=0")

    send_event(http, relay.url, event_id=event_id)

    [sse] = reading.result(timeout=DEADLINE_S)
    assert sse.event == f"{CONTENT_TYPE};base64"
    assert event_ids_in(sse) == [event_id]


def test_a_new_reader_gets_the_recent_backlog_as_spotlights_sidecar_does(
    relay: RelayMock, http: httpx.Client, pool: ThreadPoolExecutor
) -> None:
    earlier = send_event(http, relay.url)

    [sse] = listen(pool, relay.url, {earlier}, query="").result(timeout=DEADLINE_S)

    assert event_ids_in(sse) == [earlier]


def test_last_event_id_replays_exactly_what_came_after_it(
    relay: RelayMock, http: httpx.Client, pool: ThreadPoolExecutor
) -> None:
    first = send_event(http, relay.url)
    [seen] = listen(pool, relay.url, {first}, query="").result(timeout=DEADLINE_S)
    missed = [send_event(http, relay.url) for _ in range(3)]
    live = new_id()

    reading = listen(pool, relay.url, {*missed, live}, query="", last_event_id=seen.id)
    send_event(http, relay.url, event_id=live)

    events = reading.result(timeout=DEADLINE_S)
    got = [i for sse in events for i in event_ids_in(sse)]
    assert got[: len(missed)] == missed
    assert got[-1] == live
    ids = [sse.id for sse in events]
    assert len(ids) == len(set(ids)) and seen.id not in ids


def test_stream_is_behind_the_web_guard(relay: RelayMock, http: httpx.Client) -> None:
    rebound = http.get(f"{relay.url}/stream", headers={"host": "evil.example"})
    assert rebound.status_code == 403
    assert "evil.example" in rebound.json()["detail"]
    with http.stream("GET", f"{relay.url}/stream?backlog=0", headers={"host": f"localhost:{relay.port}"}) as ok:
        assert ok.status_code == 200
        assert "access-control-allow-origin" not in ok.headers


def test_health_says_it_is_a_sidecar_the_way_spotlights_cli_checks(relay: RelayMock, http: httpx.Client) -> None:
    health = http.get(f"{relay.url}/health")
    assert health.status_code == 200
    assert health.headers["x-powered-by"] == "spotlight-by-sentry"
    assert health.json()["is_healthy"] is True


def test_a_reader_that_falls_behind_slows_nothing_is_told_and_loses_nothing(
    start_relay: Any, http: httpx.Client
) -> None:
    """A reader that stops reading: ingest goes on at its pace, relay-mock's memory stays far
    below what was sent, and when the reader reads again it is told it fell behind and gets
    every envelope once, in order (the rest from the store)."""
    relay = start_relay(RELAY_SYNCHRONOUS="NORMAL")
    count, padding = 1200, "x" * 30_000
    ids = [new_id() for _ in range(count)]
    with httpx.stream("GET", f"{relay.url}/stream?backlog=0", timeout=httpx.Timeout(10, read=60)) as stalled:
        assert stalled.status_code == 200
        before = relay.memory_kib()["VmRSS"]
        slowest = 0.0
        started = time.monotonic()
        for event_id in ids:
            sent = time.monotonic()
            send_event(http, relay.url, event_id=event_id, extra={"padding": padding})
            slowest = max(slowest, time.monotonic() - sent)
        elapsed = time.monotonic() - started
        grown_kib = relay.memory_kib()["VmRSS"] - before

        got: list[str | None] = []
        told = 0
        for sse in sse_events(stalled, deadline_s=60):
            if sse.event == "relay-mock.behind":
                told += 1
                continue
            got += event_ids_in(sse)
            if len(got) >= count:
                break

    sent_mib = count * len(padding) / 2**20
    assert slowest < 2, f"one POST took {slowest:.2f}s while a reader was stalled"
    assert grown_kib / 1024 < sent_mib / 2, f"relay-mock grew {grown_kib / 1024:.1f} MiB for {sent_mib:.0f} MiB sent"
    assert told >= 1, "the reader fell behind and must be told"
    assert got == ids, "every envelope once, in order"
    print(
        f"{count} envelopes ({sent_mib:.0f} MiB) in {elapsed:.1f}s, slowest POST {slowest * 1000:.0f} ms, "
        f"relay-mock grew {grown_kib / 1024:.1f} MiB, reader told {told}x"
    )


def test_spotlights_envelope_and_clear_routes_fetch_raw_bytes_and_clear_behind_the_guard(
    relay: RelayMock, http: httpx.Client, inspector: Inspector
) -> None:
    body = envelope(item("event", event(message="raw please")), event_id=new_id())
    assert post_stream(http, relay.url, body).status_code == 200
    [stored_] = [
        e
        for e in inspector.envelopes(type="event")
        if e["header"].get("event_id") == orjson.loads(body.split(b"\n")[0])["event_id"]
    ]

    raw = http.get(f"{relay.url}/envelope/{stored_['id']}")
    assert raw.status_code == 200 and raw.content == body
    assert http.get(f"{relay.url}/envelope/{'0' * 32}").status_code == 404
    # Clearing changes something: a foreign page may not, relay-mock's own name may.
    foreign = http.delete(f"{relay.url}/clear", headers={"origin": "https://evil.example"})
    assert foreign.status_code == 403 and inspector.envelopes()
    assert http.delete(f"{relay.url}/clear").status_code == 200
    assert inspector.envelopes() == []
