"""A small error hierarchy with one handler and one JSON shape: {"error", "detail"}.

Errors with a 5xx status are captured by Sentry's Starlette integration (its
`failed_request_status_codes`), once per request; 4xx are expected and are not.
Any other exception answers 500 in the same shape and is captured by Sentry's ASGI middleware.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from servicekit.tracing import inject_sentry_trace_headers


class ServiceError(Exception):
    status_code = 500
    error = "internal_error"

    def __init__(self, detail: str, **context: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.context = context


class NotFound(ServiceError):
    status_code = 404
    error = "not_found"


class Conflict(ServiceError):
    status_code = 409
    error = "conflict"


class OutOfStock(Conflict):
    error = "out_of_stock"


class DependencyFailed(ServiceError):
    """A service we depend on answered with an error."""

    status_code = 502
    error = "dependency_failed"


class DependencyUnavailable(ServiceError):
    """A service we depend on could not be reached."""

    status_code = 503
    error = "dependency_unavailable"


class DependencyTimeout(ServiceError):
    """A service we depend on did not answer within the deadline."""

    status_code = 504
    error = "dependency_timeout"


async def _handle_service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    body: dict[str, Any] = {"error": exc.error, "detail": exc.detail, **exc.context}
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
    return JSONResponse(body, status_code=exc.status_code)


async def _handle_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """The 500 for an exception nobody handled.

    Starlette sends it from its outermost layer, outside the services' middleware, so
    the request id and the trace headers are added here: the caller of a failed request
    needs them most. Starlette re-raises `exc` afterwards, and Sentry reports it once.
    """
    body: dict[str, Any] = {"error": ServiceError.error, "detail": "internal server error"}
    headers = {}
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        body["request_id"] = request_id
        headers["x-request-id"] = request_id
    return inject_sentry_trace_headers(JSONResponse(body, status_code=500, headers=headers))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _handle_service_error)
    app.add_exception_handler(Exception, _handle_unexpected_error)
