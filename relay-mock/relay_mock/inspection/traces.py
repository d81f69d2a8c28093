"""Traces over HTTP (an adapter over `relay_mock.verify.traces`): a list (services, counts,
duration, the verifier's verdict) and one trace as a tree marked with the verifier's findings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.inspection.params import args_of
from relay_mock.inspection.responses import error, respond
from relay_mock.store.read_pool import Reader
from relay_mock.verify.model import VerifyConfig
from relay_mock.verify.run import verify_config
from relay_mock.verify.traces import load_trace, trace_page


def config_of(request: Request) -> VerifyConfig:
    return verify_config(request.app.state.settings, request.app.state.projects)


async def list_traces(request: Request) -> Response:
    args = args_of(request)
    page = await trace_page(
        request.app.state.reader,
        config_of(request),
        limit=args.integer("limit"),
        cursor=args.optional_integer("cursor"),
        project=args.text("project"),
        since=args.instant("since"),
    )
    return respond(models.TracePage, page)


async def get_trace(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    trace_id = args_of(request).text("trace_id") or ""
    trace = await load_trace(reader, config_of(request), trace_id)
    if trace is None:
        return error(404, f"no transactions or errors of trace {trace_id}")
    return respond(models.Trace, trace)
