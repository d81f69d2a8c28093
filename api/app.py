"""api's application factory; its lifespan adds the HTTP client to downstream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request

from api.inventory_client import InventoryClient
from api.models import Base
from api.routes import orders
from api.settings import ApiSettings
from servicekit.app import create_service_app
from servicekit.faults import FAULT_HEADER


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            base_url=settings.downstream_url,
            timeout=httpx.Timeout(settings.downstream_timeout_s, connect=settings.downstream_connect_timeout_s),
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
        ) as http:
            app.state.inventory = InventoryClient(http, connect_retries=settings.downstream_connect_retries)
            yield

    async def call_downstream(request: Request) -> int:
        inventory: InventoryClient = request.app.state.inventory
        return await inventory.ping(fault=request.headers.get(FAULT_HEADER))

    return create_service_app(
        settings,
        title="api",
        description="The order gateway: stores orders and reserves stock in downstream.",
        metadata=Base.metadata,
        routers=[orders.router],
        resources=resources,
        peer_call=call_downstream,
    )
