"""downstream's settings: the shared ones, on its own port."""

from __future__ import annotations

from pydantic import Field

from servicekit.settings import ServiceSettings


class DownstreamSettings(ServiceSettings):
    service_name: str = "downstream"
    port: int = Field(8001, ge=1, le=65535)
    # Seeded at start for every SKU named here; SOLD-OUT always has none (the 409 path).
    seed_skus: str = "SKU-1,SKU-2,SKU-3,SKU-4,SKU-5"
    seed_stock: int = Field(1_000_000_000, ge=0)
