"""Stock lookups: catalog's table, read one SKU at a time."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncEngine

from catalog.models import Item

SOLD_OUT_SKU = "SOLD-OUT"


class StockReader(Protocol):
    async def available(self, sku: str) -> int | None: ...


class StockTable:
    """catalog.items on the shared Postgres (each query a span of the SQLAlchemy instrumentation)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def seed(self, skus: list[str], stock: int) -> None:
        rows = [{"sku": sku, "available": stock} for sku in skus]
        rows.append({"sku": SOLD_OUT_SKU, "available": 0})
        async with self.engine.begin() as conn:
            await conn.execute(insert(Item).values(rows).on_conflict_do_nothing(index_elements=["sku"]))

    async def available(self, sku: str) -> int | None:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(Item.available).where(Item.sku == sku))).scalar_one_or_none()
