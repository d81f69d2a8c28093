"""downstream's request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime

from fastapi.openapi.models import Example
from pydantic import BaseModel, ConfigDict, Field

# /docs' "Try it out" values: SKUs this service seeds at start (settings.seed_skus), so they succeed.
SEEDED_SKU = "SKU-1"


class ReservationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    order_id: uuid.UUID
    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    quantity: int = Field(ge=1, le=1000)


RESERVATION_EXAMPLES: dict[str, Example] = {
    "reserved": {
        "summary": "A reservation of a seeded SKU",
        # Any order id: downstream does not look orders up (they live in api's database).
        "value": {"order_id": "0b7e9c1e-5d55-4f0a-9a43-3f2c1d1e8a10", "sku": SEEDED_SKU, "quantity": 1},
    },
}
SKU_EXAMPLES: dict[str, Example] = {"seeded": {"summary": "A SKU seeded at start", "value": SEEDED_SKU}}


class ReservationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    order_id: uuid.UUID
    sku: str
    quantity: int
    created_at: datetime


class StockRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    sku: str
    available: int
