"""Errors: exception type and message, stack trace, breadcrumbs, tags, and their trace."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.inspection.params import args_of
from relay_mock.inspection.responses import error, respond
from relay_mock.store import error_events as errors
from relay_mock.store.read_pool import Reader


async def list_errors(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    args = args_of(request)
    result = await reader.run(
        errors.list_errors,
        limit=args.integer("limit"),
        cursor=args.optional_integer("cursor"),
        project=args.text("project"),
        trace_id=args.text("trace_id"),
        level=args.text("level"),
        query=args.text("q"),
    )
    return respond(models.ErrorPage, result)


async def get_error(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    event_id = (args_of(request).text("event_id") or "").replace("-", "").lower()
    found = await reader.run(errors.get_error, event_id)
    if found is None:
        return error(404, f"no error event {event_id}")
    return respond(models.ErrorDetail, found)
