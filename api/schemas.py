"""api's request and response bodies."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from fastapi.openapi.models import Example
from pydantic import BaseModel, ConfigDict, Field


class OrderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$")
    quantity: int = Field(ge=1, le=1000)
    customer: str | None = Field(default=None, max_length=128)


# What /docs' "Try it out" sends: a SKU downstream seeds at start (downstream/settings.py), so
# the example is confirmed (201) on a fresh stack instead of answering 404 unknown sku.
ORDER_EXAMPLES: dict[str, Example] = {
    "confirmed": {
        "summary": "An order of a seeded SKU",
        "value": {"sku": "SKU-1", "quantity": 1, "customer": "ada@example.com"},
    },
}


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    sku: str
    quantity: int
    customer: str | None
    status: Literal["pending", "confirmed", "rejected", "failed"]
    reservation_id: uuid.UUID | None
    trace_id: str | None
    created_at: datetime
