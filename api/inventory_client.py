"""api's client for downstream (the inventory service). httpx carries the trace:
Sentry's httpx integration adds `sentry-trace` and `baggage` to each call, and downstream's
answer says what it received (its witness), which api hands back to its own caller."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from servicekit.errors import DependencyFailed, DependencyTimeout, DependencyUnavailable, NotFound, OutOfStock
from servicekit.faults import FAULT_HEADER
from servicekit.witness import record_witnesses


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
        attempt = 0
        while True:
            try:
                response = await self.http.request(method, path, headers=headers, **kwargs)
                # What downstream says it received travels back to our caller (see servicekit.witness).
                record_witnesses(response.headers)
                return response
            except httpx.ConnectTimeout as exc:
                # Nothing reached downstream, but the connect timeout has been waited out already:
                # answer now (503) rather than double the wait of a caller whose downstream is gone.
                raise DependencyUnavailable(
                    f"downstream unreachable: no connection within the timeout ({exc})"
                ) from exc
            except httpx.ConnectError as exc:
                # Nothing reached downstream, so a retry cannot duplicate a reservation.
                if attempt >= self.connect_retries:
                    raise DependencyUnavailable(f"downstream unreachable: {exc}") from exc
                attempt += 1
                await asyncio.sleep(0.05 * attempt)
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
