"""downstream's settings: the shared ones, on its own port."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator

from servicekit.settings import ServiceSettings


class DownstreamSettings(ServiceSettings):
    service_name: str = "downstream"
    port: int = Field(8001, ge=1, le=65535)
    # Seeded at start for every SKU named here; SOLD-OUT always has none (the 409 path).
    seed_skus: str = "SKU-1,SKU-2,SKU-3,SKU-4,SKU-5"
    seed_stock: int = Field(1_000_000_000, ge=0)
    # Off by default. A URL makes each reservation call that service's `GET /stock/{sku}` from
    # an http.client span (downstream/next_hop.py): compose's `three-hops` profile sets it.
    next_hop_url: str | None = None

    @field_validator("next_hop_url")
    @classmethod
    def _check_next_hop_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError("an http:// or https:// URL with a host, e.g. http://playground:8001")
        if parts.path.strip("/") or parts.query or parts.fragment:
            raise ValueError("the service's base URL only (no path, query or fragment)")
        return value.rstrip("/")
