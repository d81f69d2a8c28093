"""Sentry logs: a page of them, newest first, with filters and a cursor."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.inspection.params import args_of, log_filter
from relay_mock.inspection.responses import respond
from relay_mock.store import telemetry
from relay_mock.store.read_pool import Reader


async def list_logs(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    args = args_of(request)
    page = await reader.run(
        telemetry.list_records, log_filter(args), limit=args.integer("limit"), cursor=args.get("cursor")
    )
    return respond(models.LogPage, models.LogPage(logs=page.records, next_cursor=page.next_cursor))
