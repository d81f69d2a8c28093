"""api's client for downstream (the inventory service). httpx carries the trace:
Sentry's httpx integration adds `sentry-trace` and `baggage` to each call, and downstream's
answer says what it received (its witness), which api hands back to its own caller."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from servicekit.faults import FAULT_HEADER
from servicekit.http_errors import DependencyFailed, DependencyTimeout, DependencyUnavailable, NotFound, OutOfStock
from servicekit.witness import record_witnesses

# Below this, a retry could not connect anyway: answer the caller instead.
RETRY_MIN_CONNECT_S = 0.05


class InventoryClient:
    def __init__(self, http: httpx.AsyncClient, *, connect_retries: int = 1) -> None:
        self.http = http
        self.connect_retries = connect_retries

    async def reserve(self, order_id: uuid.UUID, sku: str, quantity: int, *, fault: str | None = None) -> uuid.UUID:
        body = {"order_id": str(order_id), "sku": sku, "quantity": quantity}
        response = await self._send("POST", "/reservations", json=body, fault=fault)
        if response.status_code == 201:
            return uuid.UUID(response.json()["id"])
        detail = _detail(response)
        if response.status_code == 409:
            raise OutOfStock(detail, sku=sku)
        if response.status_code == 404:
            raise NotFound(detail, sku=sku)
        raise DependencyFailed(
            f"downstream answered {response.status_code}: {detail}", downstream_status=response.status_code
        )

    async def ping(self, *, fault: str | None = None) -> int:
        response = await self._send("GET", "/stock/SKU-1", fault=fault)
        return response.status_code

    async def _send(self, method: str, path: str, *, fault: str | None, **kwargs: Any) -> httpx.Response:
        headers = {FAULT_HEADER: fault} if fault else {}
        # One connect budget for the call, retries included: a refused connect is retried, but a
        # retry never gets more than what is left of DOWNSTREAM_CONNECT_TIMEOUT_S, so a caller
        # whose downstream is gone waits about one connect timeout, not one per attempt. (With
        # downstream stopped, resolving its name can stall under load: Docker's DNS drops some
        # lookups of a name it no longer knows, and the retry used to wait a whole timeout again.)
        timeout = self.http.timeout
        budget = timeout.connect
        loop = asyncio.get_running_loop()
        deadline = None if budget is None else loop.time() + budget
        attempt = 0
        while True:
            try:
                response = await self.http.request(method, path, headers=headers, timeout=timeout, **kwargs)
                # What downstream says it received travels back to our caller (see servicekit.witness).
                record_witnesses(response.headers)
                return response
            except httpx.ConnectTimeout as exc:
                # Nothing reached downstream, but the connect budget is spent: answer now (503).
                raise DependencyUnavailable(
                    f"downstream unreachable: no connection within the timeout ({exc})"
                ) from exc
            except httpx.ConnectError as exc:
                # Nothing reached downstream, so a retry cannot duplicate a reservation.
                pause = 0.05 * (attempt + 1)
                left = None if deadline is None else deadline - loop.time() - pause
                if attempt >= self.connect_retries or (left is not None and left < RETRY_MIN_CONNECT_S):
                    raise DependencyUnavailable(f"downstream unreachable: {exc}") from exc
                attempt += 1
                await asyncio.sleep(pause)
                if left is not None:
                    timeout = httpx.Timeout(connect=left, read=timeout.read, write=timeout.write, pool=timeout.pool)
            except httpx.TimeoutException as exc:
                raise DependencyTimeout(f"downstream did not answer in time ({type(exc).__name__})") from exc
            except httpx.TransportError as exc:
                raise DependencyUnavailable(f"downstream connection failed: {exc}") from exc


def _detail(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("detail") or body.get("error") or body)
    return str(body)
