"""api's client for downstream: a call that never reached downstream is reported as downstream
being unavailable (503), never as downstream being slow to answer (504). A refused connection is
retried once (cheap, and nothing was sent); a connect that timed out is not (the caller already
waited the whole connect timeout, DOWNSTREAM_CONNECT_TIMEOUT_S)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from api.inventory_client import InventoryClient
from servicekit.http_errors import DependencyUnavailable

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


async def test_one_refused_connect_is_retried() -> None:
    client, attempts = _client([httpx.ConnectError])
    await client.reserve(uuid.uuid4(), "SKU-1", 1)
    assert attempts == ["/reservations", "/reservations"]


async def test_a_downstream_that_keeps_refusing_is_unavailable() -> None:
    client, attempts = _client([httpx.ConnectError, httpx.ConnectError])
    with pytest.raises(DependencyUnavailable):
        await client.reserve(uuid.uuid4(), "SKU-1", 1)
    assert len(attempts) == 2


async def test_a_connect_that_timed_out_is_unavailable_at_once() -> None:
    client, attempts = _client([httpx.ConnectTimeout])
    with pytest.raises(DependencyUnavailable, match="no connection within the timeout"):
        await client.reserve(uuid.uuid4(), "SKU-1", 1)
    assert attempts == ["/reservations"]


async def test_a_read_timeout_is_not_retried() -> None:
    # The request reached downstream: sending it again could reserve twice.
    client, attempts = _client([httpx.ReadTimeout])
    with pytest.raises(Exception, match="did not answer in time"):
        await client.reserve(uuid.uuid4(), "SKU-1", 1)
    assert attempts == ["/reservations"]


def _slow_refusals(refusal_s: float, count: int) -> tuple[InventoryClient, list[float | None]]:
    """Each of the first `count` connects is refused after `refusal_s` (a name lookup that stalled,
    as Docker's DNS does for a stopped service under load); records each attempt's connect timeout."""
    budgets: list[float | None] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        budgets.append(request.extensions["timeout"]["connect"])
        if len(budgets) <= count:
            await asyncio.sleep(refusal_s)
            raise httpx.ConnectError("Name or service not known", request=request)
        return httpx.Response(201, json={"id": str(uuid.uuid4())})

    http = httpx.AsyncClient(
        transport=httpx.MockTransport(handler),
        base_url="http://downstream:8001",
        timeout=httpx.Timeout(2.0, connect=1.0),
    )
    return InventoryClient(http), budgets


async def test_a_retry_gets_only_what_is_left_of_the_connect_budget() -> None:
    client, budgets = _slow_refusals(0.4, count=1)
    await client.reserve(uuid.uuid4(), "SKU-1", 1)
    assert budgets[0] == 1.0
    second = budgets[1]
    assert second is not None and 0.3 < second < 0.6, budgets  # 1 s, less the 0.4 s spent and the pause


async def test_no_retry_once_the_connect_budget_is_spent() -> None:
    client, budgets = _slow_refusals(1.0, count=2)
    with pytest.raises(DependencyUnavailable, match="Name or service not known"):
        await client.reserve(uuid.uuid4(), "SKU-1", 1)
    assert len(budgets) == 1, budgets
