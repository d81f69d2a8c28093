"""Errors: exception type and message, stack trace, breadcrumbs, tags, and their trace."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from relay_mock.inspection.params import hex_param, int_param
from relay_mock.inspection.responses import ORJSONResponse, error
from relay_mock.models import as_json
from relay_mock.store import error_events as errors
from relay_mock.store.read_pool import Reader


async def list_errors(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    result = await reader.run(
        errors.list_errors,
        limit=int_param(request, "limit", 50, low=1, high=1000) or 50,
        cursor=int_param(request, "cursor", None, low=0, high=2**62),
        project=request.query_params.get("project") or None,
        trace_id=hex_param(request, "trace_id", 32),
        level=request.query_params.get("level") or None,
        query=request.query_params.get("q") or None,
    )
    return ORJSONResponse(as_json(result))


async def get_error(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    event_id = request.path_params["event_id"].replace("-", "").lower()
    found = await reader.run(errors.get_error, event_id)
    if found is None:
        return error(404, f"no error event {event_id}")
    return ORJSONResponse(as_json(found))
