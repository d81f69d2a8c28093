"""The skeleton every service shares: a FastAPI app with the middleware stack, the error
handler, health endpoints and (outside production) the Sentry test routes."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any

import sentry_sdk
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import MetaData

from servicekit import db
from servicekit.http_errors import install_error_handlers
from servicekit.mcp_probe import check_sentry_mcp_connection
from servicekit.middleware import middleware_stack
from servicekit.sentry import instrument_event_loop, loop_is_instrumented
from servicekit.sentry_test_routes import PeerCall, sentry_test_router
from servicekit.settings import ServiceSettings

logger = logging.getLogger(__name__)

Resources = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def create_service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    metadata: MetaData,
    routers: Sequence[APIRouter],
    resources: Resources | None = None,
    peer_call: PeerCall | None = None,
) -> FastAPI:
    """Build a service. The lifespan owns the database engine (and creates the schema);
    `resources` adds what else the service owns, such as HTTP clients."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        instrument_event_loop()
        engine = db.create_engine(settings)
        try:
            await db.create_schema(engine, metadata)
            app.state.engine = engine
            app.state.sessionmaker = db.sessionmaker(engine)
            if settings.sentry_mcp_url:
                status = await check_sentry_mcp_connection(settings.sentry_mcp_url)
                logger.info("sentry MCP at %s: %s (%s)", status.url, status.status, status.detail)
            async with resources(app) if resources else nullcontext():
                yield
        finally:
            await engine.dispose()

    app = FastAPI(
        title=title,
        description=description,
        version=settings.app_version,
        lifespan=lifespan,
        middleware=middleware_stack(settings, sentry_active=sentry_sdk.get_client().is_active()),
    )
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(health_router())
    for router in routers:
        app.include_router(router)
    if not settings.is_production:
        app.include_router(sentry_test_router(peer_call))
    return app


def health_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/health")
    async def health(request: Request) -> JSONResponse:
        """Liveness and database reachability (the container healthcheck)."""
        settings: ServiceSettings = request.app.state.settings
        database = await db.ping(request.app.state.engine)
        body = {
            "status": "ok" if database else "degraded",
            "service": settings.service_name,
            "release": settings.release,
            "environment": settings.environment,
            "database": "ok" if database else "unreachable",
        }
        return JSONResponse(body, status_code=200 if database else 503)

    @router.get("/health/sentry")
    async def sentry_health(request: Request) -> dict[str, object]:
        """The SDK's state and a live MCP handshake with the configured Sentry MCP server."""
        settings: ServiceSettings = request.app.state.settings
        client = sentry_sdk.get_client()
        mcp = (
            (await check_sentry_mcp_connection(settings.sentry_mcp_url)).as_dict()
            if settings.sentry_mcp_url
            else {"status": "disabled", "detail": "SENTRY_MCP_URL is empty"}
        )
        return {
            "sdk_active": client.is_active(),
            "enabled": settings.sentry_enabled,
            "release": settings.release,
            "environment": settings.environment,
            "traces_sample_rate": settings.sentry_traces_sample_rate,
            "propagate_traces": settings.sentry_propagate_traces,
            "asyncio_loop_instrumented": loop_is_instrumented(),
            # Which sentry-python serves this process (the services run on 2.x or 3.x).
            "sdk": f"sentry.python/{sentry_sdk.VERSION}",
            "mcp": mcp,
        }

    return router
