"""Hostile clients do not take relay-mock or a service down: oversized headers are refused,
and slow or idle connections do not stop others from being served."""

from __future__ import annotations

import socket
import time
from contextlib import ExitStack

import httpx
import pytest

from tests.support.stack import Stack

pytestmark = pytest.mark.stack


def _targets(stack: Stack) -> dict[str, str]:
    return {
        "relay-mock": f"{stack.relay_url}/api/relay/healthcheck/ready/",
        "api": f"{stack.api_url}/health",
        "downstream": f"{stack.downstream_url}/health",
    }


def _healthy_quickly(url: str) -> float:
    started = time.monotonic()
    assert httpx.get(url, timeout=5).status_code == 200
    return time.monotonic() - started


@pytest.mark.parametrize("service", ["relay-mock", "api", "downstream"])
def test_an_oversized_header_is_refused_and_the_server_keeps_serving(stack: Stack, service: str) -> None:
    url = _targets(stack)[service]
    response = httpx.get(url, headers={"x-padding": "a" * 200_000}, timeout=10)

    assert response.status_code == 431
    assert response.headers["content-type"] == "application/json"
    assert "headers" in response.text
    assert _healthy_quickly(url) < 1


def test_ordinary_large_headers_are_accepted(stack: Stack) -> None:
    # A long cookie or a big baggage header is not an attack.
    response = httpx.get(f"{stack.api_url}/health", headers={"x-padding": "a" * 8_000}, timeout=10)

    assert response.status_code == 200


@pytest.mark.parametrize("service", ["relay-mock", "api"])
def test_slow_and_idle_connections_do_not_starve_other_clients(stack: Stack, service: str) -> None:
    url = _targets(stack)[service]
    port = int(url.split(":")[2].split("/")[0])
    with ExitStack() as held:
        for index in range(300):
            conn = held.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
            if index % 3 == 0:
                conn.sendall(b"POST /api/1/envelope/ HTTP/1.1\r\nHost: localhost\r\n")  # and never finishes
        assert _healthy_quickly(url) < 1
