"""Sentry trace metrics: raw points, and per metric a series of aggregates per time bucket."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.inspection.logs import cursor_param
from relay_mock.inspection.params import BadParameter, flag_param, float_param, hex_param, int_param, time_param
from relay_mock.inspection.responses import respond
from relay_mock.protocol.containers import METRIC_TYPES
from relay_mock.store import telemetry
from relay_mock.store.read_pool import Reader
from relay_mock.store.telemetry import TelemetryFilter


def metric_filter(request: Request) -> TelemetryFilter:
    q = request.query_params
    kind = q.get("type") or None
    if kind is not None and kind not in METRIC_TYPES:
        raise BadParameter("type", f"expected one of {', '.join(sorted(METRIC_TYPES))}, got {kind[:40]!r}")
    return TelemetryFilter(
        kind="metric",
        project=q.get("service") or None,
        trace_id=hex_param(request, "trace_id", 32),
        span_id=hex_param(request, "span_id", 16),
        name=q.get("name") or None,
        metric_type=kind,
        since=time_param(request, "since"),
        until=time_param(request, "until"),
    )


async def list_metrics(request: Request) -> Response:
    """`points`: the raw metric records, newest first, paged. `series`: per metric (name, type,
    unit, service) its points oldest first and aggregates (count, sum, min, max, avg, last) per
    `bucket` seconds; `series=false` leaves them out."""
    reader: Reader = request.app.state.reader
    flt = metric_filter(request)
    page = await reader.run(
        telemetry.list_records,
        flt,
        limit=int_param(request, "limit", 100, low=1, high=1000) or 100,
        cursor=cursor_param(request),
    )
    body = {"points": page["records"], "next_cursor": page["next_cursor"]}
    if flag_param(request, "series", True):
        body["series"] = await reader.run(
            telemetry.metric_series,
            flt,
            bucket_s=float_param(request, "bucket", 10.0, low=0.001, high=86_400.0),
            max_points=int_param(request, "max_points", 2000, low=1, high=100_000) or 2000,
        )
    return respond(models.MetricPage, body)
