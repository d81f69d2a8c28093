"""Spotlight's own CLI (@spotlightjs/spotlight from npm, pinned as in bench/spotlight.py) attached
to a relay-mock process: `spotlight tail errors -p <port> -f json` finds relay-mock's `/stream`,
does not start a sidecar of its own, and prints the errors an SDK sent by DSN."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bench import spotlight
from tests.relay_http.sdk import run_sdk
from tests.relay_http.wire import API, new_id
from tests.support.relay_server import RelayMock

DEADLINE_S = 20


@pytest.fixture(scope="module")
def spotlight_cli() -> list[str]:
    run_js = spotlight.install()
    if run_js is None:
        pytest.fail("Spotlight's CLI could not be installed from npm (see stderr)", pytrace=False)
    return ["node", str(run_js)]


class Lines:
    """A process's stdout lines, read in a thread so a test can wait for one with a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.process = process
        self.seen: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def stop(self) -> None:
        """End the process and close its pipes (after the reader has seen the end of stdout)."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._reader.join(timeout=5)
        if self.process.stdout is not None:
            self.process.stdout.close()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def json_with(self, **wanted: Any) -> dict[str, Any]:
        while True:
            try:
                line = self._lines.get(timeout=DEADLINE_S)
            except queue.Empty:
                raise AssertionError(f"no line with {wanted} within {DEADLINE_S}s; saw {self.seen}") from None
            if line is None:
                raise AssertionError(f"spotlight tail exited ({self.process.poll()}); it printed {self.seen}")
            self.seen.append(line)
            if line.startswith("{"):
                found = json.loads(line)
                if all(found.get(k) == v for k, v in wanted.items()):
                    return dict(found)


@pytest.fixture
def tail(relay: RelayMock, spotlight_cli: list[str]) -> Iterator[Lines]:
    process = subprocess.Popen(
        [*spotlight_cli, "tail", "errors", "-p", str(relay.port), "-f", "json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = Lines(process)
    try:
        yield lines
    finally:
        lines.stop()


def test_spotlight_tail_prints_errors_sent_to_relay_mock_by_dsn(relay: RelayMock, tail: Lines) -> None:
    # The first error was sent before tail attached: relay-mock's /stream replays recent envelopes
    # to a new reader, as Spotlight's sidecar replays its buffer. The second arrives live.
    before = run_sdk(API.dsn(relay.url), "error", card=f"before-{new_id()[:6]}")["errors"][0]
    printed = tail.json_with(event_id=before)
    assert printed["type"] == "error"
    assert printed["exception_type"] == "PaymentDeclined"

    live = run_sdk(API.dsn(relay.url), "error", card="live-4242")["errors"][0]
    printed = tail.json_with(event_id=live)
    assert printed["exception_value"] == "card live-4242 declined for 42 EUR"
    assert printed["filename"].endswith("sdk_client.py")
    assert tail.process.poll() is None, "spotlight tail must stay attached, not exit or start its own sidecar"


def test_spotlight_mcp_over_stdio_proxies_to_relay_mocks_mcp(relay: RelayMock, spotlight_cli: list[str]) -> None:
    """`spotlight mcp -p <port>` recognises relay-mock as a running sidecar (its /health says so)
    and relays an agent's stdio JSON-RPC to relay-mock's /mcp instead of starting its own."""
    event_id = run_sdk(API.dsn(relay.url), "error", card="mcp-proxy")["errors"][0]
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "search_errors", "arguments": {"filters": {"timeWindow": 300}}}},
    ]  # fmt: skip
    process = subprocess.Popen(
        [*spotlight_cli, "mcp", "-p", str(relay.port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdin is not None
    lines = Lines(process)
    try:
        for message in messages:
            process.stdin.write(json.dumps(message) + "\n")
        process.stdin.flush()
        initialized = lines.json_with(id=1)
        assert initialized["result"]["serverInfo"]["name"] == "relay-mock"
        answer = lines.json_with(id=2)["result"]
        assert any(event_id in item["text"] for item in answer["content"])
    finally:
        lines.stop()
