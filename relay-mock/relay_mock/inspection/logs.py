"""Sentry logs: a page of them, newest first, with filters and a cursor."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.inspection.params import Args, args_of
from relay_mock.inspection.responses import respond
from relay_mock.store import telemetry
from relay_mock.store.read_pool import Reader
from relay_mock.store.telemetry import TelemetryFilter

# What people type for the level the protocol spells "warn".
_LEVEL_ALIASES = {"warning": "warn", "critical": "fatal"}


def log_filter(args: Args) -> TelemetryFilter:
    level = args.text("level")
    return TelemetryFilter(
        kind="log",
        project=args.text("service"),
        trace_id=args.text("trace_id"),
        span_id=args.text("span_id"),
        level=_LEVEL_ALIASES.get(level, level) if level is not None else None,
        name=args.text("template"),
        query=args.text("q"),
        since=args.instant("since"),
        until=args.instant("until"),
    )


async def list_logs(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    args = args_of(request)
    page = await reader.run(
        telemetry.list_records, log_filter(args), limit=args.integer("limit"), cursor=args.get("cursor")
    )
    return respond(models.LogPage, {"logs": page["records"], "next_cursor": page["next_cursor"]})
