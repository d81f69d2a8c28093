"""The trace verifier over HTTP, an adapter over `relay_mock.verify.run`: `GET /inspect/verify`
checks every trace in the window and answers with the report (the CLI and `make verify-traces`
render it). `POST` takes the same query and a JSON body `{"expect": {...}}`: an expectations
file's content (see `relay_mock.verify.topology`)."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.inspection.params import args_of, json_body
from relay_mock.inspection.responses import error, respond
from relay_mock.live import LiveFeed
from relay_mock.verify.run import run, verify_config
from relay_mock.verify.topology import TopologyError


async def verify_traces(request: Request) -> Response:
    """Query: `since`, `until` (epoch seconds or ISO 8601), `trace_id`, and `deadline`: how long
    to keep waiting (seconds) while sampled expected traces still miss transactions."""
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
    outcome = await run(
        request.app.state.reader,
        config,
        since=since,
        until=until,
        trace_id=trace_id,
        deadline=deadline,
        wait_for_change=feed.changed,
    )
    ok = outcome.report.ok
    return respond(models.Verdict, outcome.to_model(), headers={"x-verify-ok": "true" if ok else "false"})
