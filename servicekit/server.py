"""Run a service: read settings, configure logging, configure Sentry, build the app, serve."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.loggers import configure_logging
from servicekit.sentry import configure_sentry
from servicekit.settings import ServiceSettings, load_settings

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
logger = logging.getLogger(__name__)


class KeepAliveAfterErrors:
    """The outermost ASGI layer: an exception that escapes after the 500 was sent ends here.

    Starlette re-raises every unhandled exception after answering (so the server can log it),
    and uvicorn then closes the connection. A caller with a connection pool (api's httpx
    client) may already be sending its next request on that connection, which then fails as
    if downstream were unreachable. Sentry has captured the exception by then (its middleware
    sits inside this one); log it and keep the connection.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        answered = False

        async def watch(message: Message) -> None:
            nonlocal answered
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            if not answered:
                raise
            logger.exception("unhandled exception after the response was sent")


def serve(settings_cls: type[SettingsT], create_app: Callable[[SettingsT], FastAPI]) -> None:
    settings = load_settings(settings_cls)
    configure_logging(settings.service_name, settings.log_level)
    configure_sentry(settings)
    app = KeepAliveAfterErrors(create_app(settings))
    uvicorn.run(
        app,
        host="0.0.0.0",  # noqa: S104 - inside a container; compose publishes on 127.0.0.1 only
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        # Deliberate limits (see docs/resilience.md): cap concurrent connections so a flood
        # gets fast 503s instead of exhausting memory, and drop idle keep-alives.
        limit_concurrency=1000,
        backlog=2048,
        timeout_keep_alive=15,
        h11_max_incomplete_event_size=16 * 1024,
    )
