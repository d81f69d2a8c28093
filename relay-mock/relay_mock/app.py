"""relay-mock's ASGI application: the ingest fast path in front of the inspection app."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Match, Mount, Route
from starlette.staticfiles import StaticFiles

from relay_mock import __version__, mcp
from relay_mock.faults import FaultRules
from relay_mock.forwarding.forwarder import Forwarder
from relay_mock.ingest import STREAM_PATH, IngestApp
from relay_mock.inspection import docs_page, openapi, routes
from relay_mock.inspection import envelopes as envelope_routes
from relay_mock.inspection.params import BadBody, BadParameter
from relay_mock.inspection.responses import ORJSONResponse, error
from relay_mock.live import LiveFeed
from relay_mock.models import Readiness, as_json
from relay_mock.relay_view.scrubbing import load_scrubbing
from relay_mock.relay_view.service import RelayViews
from relay_mock.settings import Project, RelaySettings, Upstream
from relay_mock.spotlight import stream as spotlight_stream
from relay_mock.store import envelopes
from relay_mock.store.read_pool import Reader
from relay_mock.store.records import EnvelopeRecord
from relay_mock.store.writer import StoreWriter
from relay_mock.web_guard import WebGuard

logger = logging.getLogger(__name__)

UI_DIR = Path(__file__).parent / "ui"


class RelayMock:
    """Routes `/api/...` straight to the ingest handler (no framework on the hot path)
    and everything else to the Starlette inspection app."""

    def __init__(
        self, settings: RelaySettings, projects: dict[int, Project], upstreams: dict[int, Upstream] | None = None
    ) -> None:
        self.settings = settings
        self.projects = projects
        self.upstreams = upstreams or {}
        self.feed = LiveFeed()
        # What Sentry would store, computed in a background process after each commit.
        self.relay_views = RelayViews(
            settings.database_path,
            load_scrubbing(settings.scrubbing, projects),
            budget_s=settings.store_view_budget_s,
        )
        self.writer = StoreWriter.from_settings(
            settings, on_commit=self._committed, forwarded=frozenset(self.upstreams)
        )
        self.reader = Reader(settings.database_path)
        self.faults = FaultRules()
        self.ingest = IngestApp(settings, projects, self.writer, self.faults)
        # Forwarding to a real Sentry (RELAY_FORWARD): None when off.
        self.forwarder = (
            Forwarder(
                self.upstreams,
                projects,
                self.writer,
                self.reader,
                max_age_s=settings.forward_max_age,
                ingest_in_flight=lambda: self.ingest.in_flight,
            )
            if self.upstreams
            else None
        )
        token = settings.inspect_token.get_secret_value() if settings.inspect_token else None
        inspection = self._inspection_app()
        self.inspector = WebGuard(
            inspection, allowed_hosts=settings.allowed_host_names, token=token, handles=_handled_by(inspection)
        )

    def _committed(self, records: list[EnvelopeRecord]) -> None:
        self.feed.publish(records)
        self.relay_views.committed(records)
        if self.forwarder is not None:
            self.forwarder.notify()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if (
            scope["type"] == "http"
            and scope["path"].startswith("/api/")
            and not scope["path"].startswith("/api/relay/")
        ) or _spotlight_ingest(scope):
            await self.ingest(scope, receive, send)
        else:
            await self.inspector(scope, receive, send)

    def _inspection_app(self) -> Starlette:
        @asynccontextmanager
        async def lifespan(app: Starlette) -> AsyncIterator[None]:
            self.writer.start()
            self.feed.last_rowid = await self.reader.run(envelopes.newest_rowid)
            if self.settings.store_view:
                self.relay_views.start()
            if self.forwarder is not None:
                self.forwarder.start()
            logger.info(
                "relay-mock %s storing in %s; projects: %s",
                __version__,
                self.settings.database_path,
                ", ".join(f"{p.id}={p.name}" for p in self.projects.values()),
            )
            try:
                yield
            finally:
                self.feed.close()
                if self.forwarder is not None:
                    await self.forwarder.close()
                await asyncio.to_thread(self.relay_views.close)
                await self.writer.close()

        app = Starlette(
            routes=[
                Route("/api/relay/healthcheck/live/", _live),
                Route("/api/relay/healthcheck/ready/", _ready),
                Route("/health", _health),
                Route(STREAM_PATH, spotlight_stream.stream, methods=["GET"]),
                # Spotlight's sidecar routes for what its UI and tools also do: clear and fetch a raw envelope.
                Route("/clear", envelope_routes.delete_all, methods=["DELETE"]),
                Route("/envelope/{envelope_id}", envelope_routes.get_raw, methods=["GET"]),
                *routes.routes(),
                Route(openapi.SCHEMA_PATH, openapi.get_openapi, methods=["GET"]),
                Route(openapi.DOCS_PATH, docs_page.get_docs, methods=["GET"]),
                *mcp.routes,
                Route("/", _index),
                Mount("/ui", StaticFiles(directory=UI_DIR), name="ui"),
            ],
            lifespan=lifespan,
            exception_handlers={BadParameter: _bad_parameter, BadBody: _bad_body, HTTPException: _http_exception},
        )
        app.state.settings = self.settings
        app.state.projects = self.projects
        app.state.writer = self.writer
        app.state.reader = self.reader
        app.state.feed = self.feed
        app.state.faults = self.faults
        app.state.relay_views = self.relay_views
        app.state.upstreams = self.upstreams
        app.state.forwarder = self.forwarder
        return app


def _spotlight_ingest(scope: dict[str, Any]) -> bool:
    """Spotlight's ingest (`POST /stream`, and its CORS preflight) goes where SDKs' envelopes go,
    without the web guard; reading `/stream` (GET) is the inspection app's, behind it."""
    return scope["type"] == "http" and scope["path"] == STREAM_PATH and scope["method"] in ("POST", "OPTIONS")


def _handled_by(app: Starlette) -> Callable[[dict[str, Any]], bool]:
    """Whether a route of the app takes this request (its path and its method)."""

    def handles(scope: dict[str, Any]) -> bool:
        return any(route.matches(scope)[0] == Match.FULL for route in app.routes)

    return handles


async def _index(request: Request) -> Response:
    # The UI is one static page; its script renders every captured value as text, never as HTML.
    return FileResponse(UI_DIR / "index.html", headers={"cache-control": "no-cache"})


async def _live(request: Request) -> Response:
    return ORJSONResponse({"is_healthy": True})


async def _ready(request: Request) -> Response:
    writer: StoreWriter = request.app.state.writer
    totals = writer.totals
    ready = Readiness(is_healthy=True, version=__version__, envelopes=totals.envelopes, bytes=totals.bytes)
    return ORJSONResponse(as_json(ready))


# What Spotlight's CLI looks for in `/health` to recognise a running sidecar (`spotlight tail`,
# `spotlight mcp` and `spotlight run` then use it instead of starting their own).
SPOTLIGHT_SERVER_ID = "spotlight-by-sentry"


async def _health(request: Request) -> Response:
    response = await _ready(request)
    response.headers["x-powered-by"] = SPOTLIGHT_SERVER_ID
    return response


async def _bad_parameter(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadParameter)
    return error(400, f"invalid query parameter {exc.name}", exc.message)


async def _bad_body(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BadBody)
    return error(400, "the body is not valid JSON", str(exc))


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    response = error(exc.status_code, str(exc.detail), f"{request.method} {request.url.path}")
    # A 405 names the methods the path has (`Allow`, RFC 9110); Starlette puts it on the exception.
    response.headers.update(exc.headers or {})
    return response
