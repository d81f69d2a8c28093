"""downstream's application factory; its lifespan seeds the stock table."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from sqlalchemy.dialects.postgresql import insert

from downstream.models import Base, Stock
from downstream.next_hop import TIMEOUT, NextHop
from downstream.routes import reservations
from downstream.settings import DownstreamSettings
from servicekit.app import create_service_app

SOLD_OUT_SKU = "SOLD-OUT"


def create_app(settings: DownstreamSettings) -> FastAPI:
    @asynccontextmanager
    async def resources(app: FastAPI) -> AsyncIterator[None]:
        rows = [
            {"sku": sku.strip(), "available": settings.seed_stock}
            for sku in settings.seed_skus.split(",")
            if sku.strip()
        ]
        rows.append({"sku": SOLD_OUT_SKU, "available": 0})
        async with app.state.engine.begin() as conn:
            await conn.execute(insert(Stock).values(rows).on_conflict_do_nothing(index_elements=["sku"]))
        if settings.next_hop_url is None:
            app.state.next_hop = None
            yield
            return
        async with httpx.AsyncClient(base_url=settings.next_hop_url, timeout=TIMEOUT) as http:
            app.state.next_hop = NextHop(http)
            yield

    return create_service_app(
        settings,
        title="downstream",
        description="The inventory service: stock and reservations.",
        metadata=Base.metadata,
        routers=[reservations.router],
        resources=resources,
    )
