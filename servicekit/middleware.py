"""Plain ASGI middleware for the services (never BaseHTTPMiddleware: it breaks the
contextvars Sentry's scopes live in).

`middleware_stack()` is the one place that declares their order.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

import sentry_sdk
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from servicekit.loggers import request_id_var
from servicekit.request_span import current_request_span
from servicekit.settings import ServiceSettings
from servicekit.tracing import extract_sentry_trace, trace_headers
from servicekit.witness import WitnessMiddleware

logger = logging.getLogger(__name__)

REQUEST_ID_HEADER = "x-request-id"

# HTTP status → Sentry span status (the names of Sentry's trace context).
_SPAN_STATUS = {
    400: "invalid_argument",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    408: "deadline_exceeded",
    409: "already_exists",
    413: "failed_precondition",
    429: "resource_exhausted",
    499: "cancelled",
    501: "unimplemented",
    503: "unavailable",
    504: "deadline_exceeded",
}


def span_status_for(status_code: int) -> str:
    if status_code < 400:
        return "ok"
    if status_code in _SPAN_STATUS:
        return _SPAN_STATUS[status_code]
    if status_code < 500:
        return "invalid_argument"
    if status_code < 600:
        return "internal_error"
    return "unknown_error"


class RequestIdMiddleware:
    """Give every request an id (the caller's `X-Request-ID` when it is sane), expose it
    to logs through a contextvar and echo it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _header(scope, REQUEST_ID_HEADER)
        if not request_id or len(request_id) > 128 or not request_id.isprintable():
            request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", request_id.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


class SentryTracingMiddleware:
    """Enrich the transaction Sentry's FastAPI integration already started for the request.

    It never starts a transaction of its own (that would make two per request). It tags
    method, route, URL, user and request id, records response time as a measurement, sets
    the status from the HTTP code, and returns the trace's `sentry-trace`/`baggage` to the caller.
    """

    def __init__(self, app: ASGIApp, user_header: str = "x-user-id") -> None:
        self.app = app
        self.user_header = user_header.lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        transaction = current_request_span()
        status_code = 500
        if transaction is not None:
            self._tag_request(transaction, scope)

        async def send_with_trace(message: Message) -> None:
            nonlocal status_code
            if message["type"] == "http.response.start":
                status_code = message["status"]
                extra = [(k.encode(), v.encode("latin-1")) for k, v in trace_headers()]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_trace)
        finally:
            if transaction is not None:
                self._finish(transaction, scope, status_code, started)

    def _tag_request(self, transaction: Any, scope: Scope) -> None:
        transaction.set_tag("http.method", scope["method"])
        transaction.set_tag("http.url", scope.get("path", ""))
        request_id = scope.get("state", {}).get("request_id")
        if request_id:
            sentry_sdk.set_tag("request_id", request_id)
            transaction.set_tag("request_id", request_id)
            # On every log, metric and streamed span of the request: the verifier's correlation
            # check links them to the request by it, whatever trace id they carry.
            sentry_sdk.get_isolation_scope().set_attribute("request_id", request_id)
        incoming = extract_sentry_trace(scope)
        transaction.set_tag(
            "trace.incoming", "valid" if incoming.valid else "malformed" if incoming.present else "none"
        )
        if incoming.problems:
            logger.warning("malformed trace headers: %s", "; ".join(incoming.problems))
            transaction.set_data("trace.incoming_problems", list(incoming.problems))
        # Set before the endpoint runs, so errors it reports carry the user too.
        user_id = _header(scope, self.user_header) or _session_user(scope)
        if user_id:
            self._set_user(transaction, user_id[:128])

    def _finish(self, transaction: Any, scope: Scope, status_code: int, started: float) -> None:
        elapsed_ms = (time.perf_counter() - started) * 1000
        transaction.set_measurement("response_time", elapsed_ms, "millisecond")
        route = scope.get("route")
        transaction.set_tag("http.route", getattr(route, "path", None) or transaction.name)
        transaction.set_tag("http.status_code", str(status_code))
        # Set last, after the SDK's own mapping ran, so this table is what Sentry sees.
        transaction.set_status(span_status_for(status_code))
        # A login during the request put the user into the session only now.
        session_user = _session_user(scope)
        if session_user and not _header(scope, self.user_header):
            self._set_user(transaction, session_user[:128])

    @staticmethod
    def _set_user(transaction: Any, user_id: str) -> None:
        sentry_sdk.set_user({"id": user_id})
        transaction.set_tag("user.id", user_id)


def middleware_stack(settings: ServiceSettings, *, sentry_active: bool) -> list[Middleware]:
    """The services' middleware, outermost first (Sentry's own ASGI middleware wraps them all)."""
    stack = [
        Middleware(RequestIdMiddleware),
        # Outside TrustedHost: a refused request is witnessed too (it reached the service).
        Middleware(WitnessMiddleware, service=settings.service_name),
        Middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts),
        Middleware(
            SessionMiddleware,
            secret_key=settings.session_secret,
            https_only=settings.is_production,
            same_site="lax",
        ),
    ]
    if sentry_active and settings.sentry_enabled and not settings.sentry_bare_sdk:
        stack.append(Middleware(SentryTracingMiddleware, user_header=settings.user_header))
    return stack


def _session_user(scope: Scope) -> str | None:
    """The user id SessionMiddleware decoded from the session cookie, if any."""
    session = scope.get("session")
    if isinstance(session, dict) and session.get("user_id"):
        return str(session["user_id"])
    return None


def _header(scope: Scope, name: str) -> str | None:
    target = name.encode()
    for key, value in scope.get("headers", ()):
        if key.lower() == target:
            return str(value.decode("latin-1"))
    return None
