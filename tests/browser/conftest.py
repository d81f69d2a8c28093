"""Fixtures for the web UI tests: a relay-mock of their own, real SDK traffic in it, and
Debian's Chromium driven by Playwright (CHROMIUM_PATH overrides the browser)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.traffic import send_many, wait_for

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
READY_DEADLINE_S = 20
STOP_GRACE_S = 3


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RelayMock:
    """relay-mock as a subprocess on a fixed port and data directory: it can stop and come back."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "relay-mock.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {key: value for key, value in os.environ.items() if not key.startswith("RELAY_")}
        env |= {"RELAY_DATA_DIR": str(self.data_dir), "RELAY_PORT": str(self.port), "RELAY_HOST": "127.0.0.1"}
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "relay_mock", "serve"],
                cwd=REPO / "relay-mock",
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            # uvicorn waits for open event streams to end before it exits; do not wait for them long.
            self.process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def crash(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()
        self.process = None

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_DEADLINE_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"relay-mock exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}"
                )
            try:
                if httpx.get(f"{self.url}/api/relay/healthcheck/ready/", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"relay-mock not ready after {READY_DEADLINE_S}s:\n{self.log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def relay_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A relay-mock subprocess on a free port with an empty data directory, for the whole session."""
    relay = RelayMock(tmp_path_factory.mktemp("relay-data"))
    try:
        relay.start()
        yield relay.url
    finally:
        relay.stop()


@pytest.fixture
def own_relay(tmp_path: Path) -> Iterator[RelayMock]:
    """A relay-mock for one test, which may stop and restart it."""
    relay = RelayMock(tmp_path)
    try:
        relay.start()
        yield relay
    finally:
        relay.stop()


@pytest.fixture(scope="session")
def seeded(relay_url: str) -> dict[str, dict[str, Any]]:
    """What every view needs, sent once with the real SDK: a clean api → downstream trace,
    one whose downstream transaction hangs off a span the api never sent, an exception
    with a chained cause and breadcrumbs, and markup posing as names."""
    sent = send_many(
        relay_url,
        {
            "order": ["order"],
            "orphan": ["order", "--orphan", "--no-baggage"],
            "error": ["error"],
            "hostile": ["hostile"],
        },
    )
    # Transactions: 2 per order, 1 for the error, 1 hostile; events: the error, 2 hostile.
    wait_for(relay_url, "transaction", 6)
    wait_for(relay_url, "event", 3)
    return sent


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(executable).is_file():
        pytest.fail(
            f"no Chromium at {executable}: install Debian's (apt-get install -y chromium) "
            "or point CHROMIUM_PATH at a Chromium binary",
            pytrace=False,
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, relay_url: str) -> Iterator[Page]:
    """A fresh page on relay-mock's UI; a JavaScript exception fails the test that caused it."""
    context = browser.new_context(base_url=relay_url, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    crashes: list[str] = []
    page.on("pageerror", lambda exc: crashes.append(str(exc)))
    yield page
    context.close()
    assert not crashes, f"the UI threw: {crashes}"
