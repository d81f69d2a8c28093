"""Fixtures for relay-mock over real HTTP: one relay-mock process per module (a module
overrides `relay_env` to give it settings), dedicated ones for tests that stop, crash or
configure them, and the real clients' installations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from tests.relay_http.inspector import Inspector
from tests.relay_http.javascript import JavaScriptSdks, install
from tests.support.relay_server import RelayMock


@pytest.fixture(scope="module")
def relay_env() -> dict[str, str]:
    """Extra RELAY_* settings for the module's relay-mock."""
    return {}


@pytest.fixture(scope="module")
def relay(relay_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayMock]:
    with RelayMock(tmp_path_factory.mktemp("relay"), env=relay_env) as server:
        yield server


@pytest.fixture(scope="module")
def inspector(relay: RelayMock) -> Iterator[Inspector]:
    client = Inspector(relay.url)
    yield client
    client.close()


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=30) as client:
        yield client


@pytest.fixture
def start_relay(tmp_path: Path) -> Iterator[Callable[..., RelayMock]]:
    """Start a relay-mock of the test's own, with extra settings: start_relay(RELAY_X="1")."""
    started: list[RelayMock] = []

    def start(**env: str) -> RelayMock:
        server = RelayMock(tmp_path / f"relay-{len(started)}", env=env)
        server.data_dir.mkdir()
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def js_sdks() -> JavaScriptSdks:
    return install()
