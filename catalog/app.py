"""catalog's application: `GET /stock/{sku}` (what downstream's next hop asks) and `/health`.

No servicekit middleware stack here: that one is built around sentry-sdk's transactions. catalog
has OpenTelemetry's FastAPI instrumentation outermost (the server span, continuing whatever
context its propagator reads) and the witness inside it, which reports that span's trace.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import FastAPI, Path, Request
from fastapi.responses import JSONResponse
from opentelemetry.instrumentation.utils import suppress_instrumentation
from pydantic import BaseModel
from starlette.middleware import Middleware

from catalog.models import Base
from catalog.settings import CatalogSettings
from catalog.stock import StockReader, StockTable
from catalog.telemetry import LOGGER_NAME, Telemetry, current_span
from servicekit import db
from servicekit.witness import WitnessMiddleware

logger = logging.getLogger(f"{LOGGER_NAME}.stock")

SKU_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


class StockRead(BaseModel):
    sku: str
    available: int


def create_app(settings: CatalogSettings, telemetry: Telemetry, *, stock: StockReader | None = None) -> FastAPI:
    """The app. `stock` replaces the Postgres table (in-process tests, which run no lifespan)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = db.create_engine(settings)
        telemetry.instrument_engine(engine)
        try:
            # Setting up the schema is no request of anyone's: traced, each statement would be a
            # one-span trace of its own in the trace list.
            with suppress_instrumentation():
                await db.create_schema(engine, Base.metadata)
                table = StockTable(engine)
                await table.seed([s.strip() for s in settings.seed_skus.split(",") if s.strip()], settings.seed_stock)
            app.state.engine = engine
            app.state.stock = table
            yield
        finally:
            await engine.dispose()
            telemetry.shutdown()

    app = FastAPI(
        title="catalog",
        description="The OpenTelemetry-instrumented stock service (compose profile `otel`).",
        version=settings.app_version,
        lifespan=lifespan,
        middleware=[Middleware(WitnessMiddleware, service=settings.service_name, own_span=current_span)],
    )
    app.state.settings = settings
    if stock is not None:
        app.state.stock = stock

    @app.get("/stock/{sku}", response_model=StockRead, tags=["catalog"])
    async def read_stock(sku: Annotated[str, Path(pattern=SKU_PATTERN)], request: Request) -> StockRead | JSONResponse:
        """How many of `sku` the catalog lists; 404 for a SKU it does not know."""
        reader: StockReader = request.app.state.stock
        available = await reader.available(sku)
        # One log line per lookup; OpenTelemetry's handler gives it this request's trace and span.
        if available is None:
            attributes: dict[str, object] = {"sku": sku, "found": False}
            logger.info("stock lookup: unknown sku %s", sku, extra=attributes)
            return JSONResponse({"error": "not_found", "detail": f"unknown sku {sku}"}, status_code=404)
        attributes = {"sku": sku, "found": True, "available": available}
        logger.info("stock lookup: %s has %d available", sku, available, extra=attributes)
        return StockRead(sku=sku, available=available)

    @app.get("/health", tags=["health"])
    async def health(request: Request) -> JSONResponse:
        """Liveness and database reachability (the container healthcheck)."""
        engine = getattr(request.app.state, "engine", None)
        # /health is not traced (EXCLUDED_URLS): its query would otherwise start a one-span trace
        # at every container probe, every 2 s.
        with suppress_instrumentation():
            database = engine is not None and await db.ping(engine)
        body = {
            "status": "ok" if database else "degraded",
            "service": settings.service_name,
            "release": settings.release,
            "propagation": settings.catalog_propagation,
            "database": "ok" if database else "unreachable",
        }
        return JSONResponse(body, status_code=200 if database else 503)

    telemetry.instrument_app(app)
    return app
