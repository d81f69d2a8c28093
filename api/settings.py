"""api's settings: the shared ones plus how to reach downstream."""

from __future__ import annotations

from pydantic import Field

from servicekit.settings import ServiceSettings


class ApiSettings(ServiceSettings):
    service_name: str = "api"
    port: int = Field(8000, ge=1, le=65535)
    downstream_url: str = "http://downstream:8001"
    # Bounded, so a dead downstream makes api answer fast instead of piling requests up.
    downstream_timeout_s: float = Field(2.0, gt=0, le=60)
    # Connecting includes resolving the name: with downstream's container gone, Docker's DNS
    # may take a second or more to say so. Half a second is plenty for a live service.
    downstream_connect_timeout_s: float = Field(1.0, gt=0, le=60)
    # Retries of a call that never reached downstream (connection refused); never of a sent request.
    downstream_connect_retries: int = Field(1, ge=0, le=5)
