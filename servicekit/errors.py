"""A small error hierarchy with one handler and one JSON shape: {"error", "detail"}.

Errors with a 5xx status are captured by Sentry's Starlette integration (its
`failed_request_status_codes`), once per request; 4xx are expected and are not.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse


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


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, _handle_service_error)
