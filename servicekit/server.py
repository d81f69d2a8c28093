"""Run a service: read settings, configure logging, configure Sentry, build the app, serve."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TypeVar

import uvicorn
from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from servicekit.loggers import configure_logging
from servicekit.sentry import configure_sentry
from servicekit.settings import ServiceSettings, load_settings

SettingsT = TypeVar("SettingsT", bound=ServiceSettings)
logger = logging.getLogger(__name__)

MAX_HEADER_BYTES = 32 * 1024


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


class BoundedHeadersProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a cap on the request line and headers (httptools
    has none): past it the request gets 431 with the services' JSON error shape, and the
    connection is closed. (relay-mock has its own copy: it shares no code with the services.)"""

    max_header_bytes = MAX_HEADER_BYTES

    def on_message_begin(self) -> None:
        self._header_bytes = 0
        self._headers_done = False
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._headers_done = True
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if getattr(self, "_headers_done", True) or self.transport.is_closing():
            return
        self._header_bytes += len(data)
        if self._header_bytes > self.max_header_bytes:
            body = json.dumps(
                {"error": "headers_too_large", "detail": f"more than {self.max_header_bytes} bytes of headers"}
            ).encode()
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
            )
            self.transport.close()


def run(app: ASGIApp, port: int) -> None:
    """Serve one service's app the way every service of the stack is served (catalog too)."""
    uvicorn.run(
        KeepAliveAfterErrors(app),
        host="0.0.0.0",  # noqa: S104 - inside a container; compose publishes on 127.0.0.1 only
        port=port,
        log_config=None,
        access_log=False,
        server_header=False,
        http=BoundedHeadersProtocol,
        # Deliberate limits (see docs/resilience.md): bounded headers (above), concurrent
        # requests capped so a flood gets fast 503s instead of exhausting memory, idle
        # keep-alives dropped.
        limit_concurrency=1000,
        backlog=2048,
        timeout_keep_alive=15,
    )


def serve(settings_cls: type[SettingsT], create_app: Callable[[SettingsT], FastAPI]) -> None:
    settings = load_settings(settings_cls)
    configure_logging(settings.service_name, settings.log_level)
    configure_sentry(settings)
    run(create_app(settings), settings.port)
