"""`relay-mock tail` against a relay-mock process: what it prints in each format, its filters,
and its reconnection (Last-Event-ID) across a restart of relay-mock, losing and repeating nothing."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

import httpx
import orjson
import pytest

from tests.relay_http.wire import API, DOWNSTREAM, envelope, item, new_id, send_event
from tests.support.relay_server import REPO, RelayMock

DEADLINE_S = 20


class Tail:
    """`python -m relay_mock tail ...` as a process; its stdout lines, read in a thread."""

    def __init__(self, relay_url: str, *args: str) -> None:
        self.process = subprocess.Popen(
            # --replay: what was stored before it connected counts too, so no test races its start.
            [sys.executable, "-m", "relay_mock", "--url", relay_url, "tail", "--replay", "1000", *args],
            cwd=REPO / "relay-mock",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def next_line(self, matching: Callable[[str], bool] = lambda _: True) -> str:
        while True:
            try:
                line = self.lines.get(timeout=DEADLINE_S)
            except queue.Empty:
                raise AssertionError(f"relay-mock tail printed no matching line within {DEADLINE_S}s") from None
            if line is None:
                raise AssertionError(f"relay-mock tail exited: {self.stop()}")
            if matching(line):
                return line

    def stop(self) -> str:
        self.process.terminate()
        try:
            _, err = self.process.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, err = self.process.communicate()
        return err


@pytest.fixture
def tail() -> Iterator[Callable[..., Tail]]:
    started: list[Tail] = []

    def start(relay_url: str, *args: str) -> Tail:
        started.append(Tail(relay_url, *args))
        return started[-1]

    yield start
    for process in started:
        process.stop()


def test_piped_it_prints_ndjson_one_object_per_error(
    relay: RelayMock, http: httpx.Client, tail: Callable[..., Tail]
) -> None:
    following = tail(relay.url, "errors")

    event_id = send_event(http, relay.url, exception={"values": [{"type": "KeyError", "value": "'sku'"}]})

    line = orjson.loads(following.next_line(lambda line: event_id in line))
    assert line["kind"] == "error" and line["project"] == "api"
    assert (line["type"], line["message"]) == ("KeyError", "'sku'")


def test_formats_logfmt_and_human(relay: RelayMock, http: httpx.Client, tail: Callable[..., Tail]) -> None:
    as_logfmt = tail(relay.url, "errors", "--format", "logfmt")
    as_human = tail(relay.url, "errors", "--format", "human")

    event_id = send_event(http, relay.url, exception={"values": [{"type": "ValueError", "value": "bad qty"}]})

    logfmt = as_logfmt.next_line(lambda line: event_id in line)
    assert "kind=error" in logfmt and "project=api" in logfmt and 'message="bad qty"' in logfmt
    human = as_human.next_line(lambda line: "ValueError: bad qty" in line)
    assert "api" in human and "error" in human


def test_filters_by_kind_project_service_and_trace(
    relay: RelayMock, http: httpx.Client, tail: Callable[..., Tail]
) -> None:
    trace_id = new_id()
    by_trace = tail(relay.url, "all", "--trace-id", trace_id)
    by_project = tail(relay.url, "errors", "--project", "downstream")
    by_service = tail(relay.url, "logs", "--service", "checkout")

    send_event(http, relay.url, project=API, release=f"api@{new_id()}")
    downstream = send_event(http, relay.url, project=DOWNSTREAM)
    log = {"timestamp": 1_800_000_000.5, "level": "warn", "body": "stock low", "trace_id": trace_id,
           "attributes": {"sentry.release": {"type": "string", "value": "checkout@1.2.0"}}}  # fmt: skip
    body = envelope(item("log", {"version": 2, "items": [log]}, item_count=1))
    posted = http.post(
        API.envelope_url(relay.url), content=body, headers={**API.auth, "content-type": "application/x-sentry-envelope"}
    )
    assert posted.status_code == 200, posted.text

    assert orjson.loads(by_project.next_line(lambda line: downstream in line))["project"] == "downstream"
    logged = orjson.loads(by_service.next_line(lambda line: trace_id in line))
    assert (logged["kind"], logged["message"], logged["release"]) == ("log", "stock low", "checkout@1.2.0")
    traced = orjson.loads(by_trace.next_line())
    assert (traced["kind"], traced["trace_id"]) == ("log", trace_id)


def test_it_reconnects_after_a_restart_without_losing_or_repeating(
    start_relay: Callable[..., RelayMock], http: httpx.Client, tail: Callable[..., Tail]
) -> None:
    relay = start_relay()
    following = tail(relay.url, "errors")
    before = send_event(http, relay.url)
    assert orjson.loads(following.next_line())["event_id"] == before

    relay.restart()  # same port and store; the tail's connection drops
    after = [send_event(http, relay.url) for _ in range(3)]

    printed = [orjson.loads(following.next_line())["event_id"] for _ in after]
    assert printed == after
    with pytest.raises(queue.Empty):
        following.lines.get(timeout=2)  # nothing repeated
