"""The trace verifier over HTTP: `GET /inspect/verify` checks every trace in the window and
answers with the report (the CLI and `make verify-traces` render it). `POST` takes the same
query and a JSON body `{"expect": {...}}`: an expectations file's content (see
`relay_mock.verify.topology`)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.inspection.params import args_of, json_body
from relay_mock.inspection.responses import error, respond
from relay_mock.live import LiveFeed
from relay_mock.settings import Project, RelaySettings
from relay_mock.store.read_pool import Reader

# Checks that register themselves at import: their findings count like the built-in ones.
from relay_mock.verify import pitfalls  # noqa: F401  (sdk_pitfalls: shared traces, the SDK's own DSN calls)
from relay_mock.verify.checks import verify
from relay_mock.verify.collect import Collected, collect
from relay_mock.verify.correlation import check_correlation, collect_correlation, with_correlation
from relay_mock.verify.model import VerifyConfig
from relay_mock.verify.topology import TopologyError, parse_topology


def verify_config(
    settings: RelaySettings, projects: dict[int, Project], *, until: float | None = None, expect: Any = None
) -> VerifyConfig:
    config = VerifyConfig(
        public_keys={p.name: p.public_key for p in projects.values()},
        project_ids={p.name: p.id for p in projects.values()},
        ui_base_url=settings.public_url,
        until=until,
    )
    return parse_topology(expect, config) if expect is not None else config


async def verify_traces(request: Request) -> Response:
    """Query: `since`, `until` (epoch seconds or ISO 8601), `trace_id`, and `deadline`: how long
    to keep waiting (seconds) while sampled expected traces still miss transactions."""
    reader: Reader = request.app.state.reader
    feed: LiveFeed = request.app.state.feed
    args = args_of(request)
    since, until = args.instant("since"), args.instant("until")
    trace_id = args.text("trace_id")
    deadline = time.monotonic() + args.number("deadline")
    expect = None
    if request.method == "POST":
        body = await json_body(request, empty=b"{}")
        if not isinstance(body, dict):
            return error(400, 'the body is not an object: expected {"expect": {...}}', f"got {type(body).__name__}")
        expect = body.get("expect")
    try:
        config = verify_config(request.app.state.settings, request.app.state.projects, until=until, expect=expect)
    except TopologyError as exc:
        return error(400, "invalid expectations", f"{exc.where}: {exc.message}")
    started = time.monotonic()
    while True:
        # Segment spans stand where transactions stood (SENTRY_TRACE_LIFECYCLE=stream): collect reads both.
        collected: Collected = await reader.run(collect, since=since, until=until, trace_id=trace_id)
        remaining = deadline - time.monotonic()
        if collected.pending == 0 or remaining <= 0:
            break
        await feed.changed(min(remaining, 1.0))
    report = await asyncio.to_thread(
        verify, collected.bundles, client_reports=collected.client_reports, refusals=collected.refusals, config=config
    )
    # Logs and metrics against their requests' traces (verify/correlation.py), added to the report.
    correlation = await reader.run(collect_correlation, since=since, until=until)
    found = check_correlation(correlation, ui_base_url=config.ui_base_url)
    scenarios = {b.trace_id: b.expectation.scenario for b in collected.bundles if b.expectation is not None}
    report = with_correlation(report, [f for f in found if trace_id is None or f.trace_id == trace_id], scenarios)
    verdict = models.Verdict(
        ok=report.ok,
        report=models.VerifyReport.of(report),
        waited_s=round(time.monotonic() - started, 3),
        still_pending=collected.pending,
    )
    return respond(models.Verdict, verdict, headers={"x-verify-ok": "true" if report.ok else "false"})
