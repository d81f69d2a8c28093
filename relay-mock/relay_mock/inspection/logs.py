"""Sentry logs: a page of them, newest first, with filters and a cursor."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.inspection.params import BadParameter, hex_param, int_param, time_param
from relay_mock.inspection.responses import respond
from relay_mock.protocol.containers import LOG_LEVELS
from relay_mock.store import telemetry
from relay_mock.store.read_pool import Reader
from relay_mock.store.telemetry import TelemetryFilter

# What people type for the level the protocol spells "warn".
_LEVEL_ALIASES = {"warning": "warn", "critical": "fatal"}


def log_filter(request: Request) -> TelemetryFilter:
    q = request.query_params
    level = q.get("level") or None
    if level is not None:
        level = _LEVEL_ALIASES.get(level.lower(), level.lower())
        if level not in LOG_LEVELS:
            raise BadParameter("level", f"expected one of {', '.join(sorted(LOG_LEVELS))}, got {q['level'][:40]!r}")
    return TelemetryFilter(
        kind="log",
        project=q.get("service") or None,
        trace_id=hex_param(request, "trace_id", 32),
        span_id=hex_param(request, "span_id", 16),
        level=level,
        name=q.get("template") or None,
        query=q.get("q") or None,
        since=time_param(request, "since"),
        until=time_param(request, "until"),
    )


def cursor_param(request: Request) -> tuple[int, int, int] | None:
    raw = request.query_params.get("cursor")
    if not raw:
        return None
    cursor = telemetry.decode_cursor(raw)
    if cursor is None:
        raise BadParameter("cursor", f"expected the next_cursor of a previous page, got {raw[:40]!r}")
    return cursor


async def list_logs(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    page = await reader.run(
        telemetry.list_records,
        log_filter(request),
        limit=int_param(request, "limit", 100, low=1, high=1000) or 100,
        cursor=cursor_param(request),
    )
    return respond(models.LogPage, {"logs": page["records"], "next_cursor": page["next_cursor"]})
