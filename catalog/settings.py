"""catalog's settings: the services' shared ones (database, DSN, environment, release), its
port, and how it propagates trace context."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from servicekit.settings import ServiceSettings

Propagation = Literal["sentry", "w3c"]


class CatalogSettings(ServiceSettings):
    service_name: str = "catalog"
    port: int = Field(8002, ge=1, le=65535)
    # `sentry`: sentry-sdk's OTLPIntegration, the setup Sentry documents for OpenTelemetry users:
    # spans over OTLP to the DSN's project, Sentry's propagator (`sentry-trace` + `baggage`).
    # `w3c`: plain OpenTelemetry, W3C tracecontext + baggage (`traceparent`), no sentry-sdk.
    catalog_propagation: Propagation = "sentry"
    # The SKUs seeded at start (as downstream seeds its inventory); SOLD-OUT always has none.
    seed_skus: str = "SKU-1,SKU-2,SKU-3,SKU-4,SKU-5"
    seed_stock: int = Field(1_000, ge=0)
