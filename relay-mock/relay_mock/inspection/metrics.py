"""Sentry trace metrics: raw points, and per metric a series of aggregates per time bucket."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.inspection.params import Args, args_of
from relay_mock.inspection.responses import respond
from relay_mock.store import telemetry
from relay_mock.store.read_pool import Reader
from relay_mock.store.telemetry import TelemetryFilter


def metric_filter(args: Args) -> TelemetryFilter:
    return TelemetryFilter(
        kind="metric",
        project=args.text("service"),
        trace_id=args.text("trace_id"),
        span_id=args.text("span_id"),
        name=args.text("name"),
        metric_type=args.text("type"),
        since=args.instant("since"),
        until=args.instant("until"),
    )


async def list_metrics(request: Request) -> Response:
    """`points`: the raw metric records, newest first, paged. `series`: per metric (name, type,
    unit, service) its points oldest first and aggregates (count, sum, min, max, avg, last) per
    `bucket` seconds; `series=false` leaves them out."""
    reader: Reader = request.app.state.reader
    args = args_of(request)
    flt = metric_filter(args)
    page = await reader.run(telemetry.list_records, flt, limit=args.integer("limit"), cursor=args.get("cursor"))
    body = models.MetricPage(points=page.records, next_cursor=page.next_cursor)
    if args.flag("series"):
        body.series = await reader.run(
            telemetry.metric_series, flt, bucket_s=args.number("bucket"), max_points=args.integer("max_points")
        )
    return respond(models.MetricPage, body)
