"""api's client for downstream: a call that never reached downstream (the connection was
refused or took too long to open) is retried once and, when it still fails, is reported as
downstream being unavailable (503), never as downstream being slow to answer (504)."""

from __future__ import annotations

import uuid

import httpx
import pytest

from api.inventory_client import InventoryClient
from servicekit.errors import DependencyUnavailable

pytestmark = pytest.mark.anyio


def _client(failures: list[type[httpx.TransportError]]) -> tuple[InventoryClient, list[str]]:
    attempts: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        attempts.append(request.url.path)
        if failures:
            raise failures.pop(0)("connect failed", request=request)
        return httpx.Response(201, json={"id": str(uuid.uuid4())})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://downstream:8001")
    return InventoryClient(http), attempts


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout])
async def test_one_failed_connect_is_retried(failure: type[httpx.TransportError]) -> None:
    # A busy machine can take longer than the connect timeout to open a connection to a
    # healthy downstream; nothing was sent, so trying again duplicates nothing.
    client, attempts = _client([failure])
    await client.reserve(uuid.uuid4(), "SKU-1", 1)
    assert attempts == ["/reservations", "/reservations"]


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout])
async def test_a_downstream_that_cannot_be_reached_is_unavailable(failure: type[httpx.TransportError]) -> None:
    client, attempts = _client([failure, failure])
    with pytest.raises(DependencyUnavailable):
        await client.reserve(uuid.uuid4(), "SKU-1", 1)
    assert len(attempts) == 2


async def test_a_read_timeout_is_not_retried() -> None:
    # The request reached downstream: sending it again could reserve twice.
    client, attempts = _client([httpx.ReadTimeout])
    with pytest.raises(Exception, match="did not answer in time"):
        await client.reserve(uuid.uuid4(), "SKU-1", 1)
    assert attempts == ["/reservations"]
