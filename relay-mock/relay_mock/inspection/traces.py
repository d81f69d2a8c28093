"""Traces over HTTP (an adapter over `relay_mock.verify.traces`): a list (services, counts,
duration, the verifier's verdict) and one trace as a tree marked with the verifier's findings."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.inspection.params import BadParameter, int_param, time_param
from relay_mock.inspection.responses import error, respond
from relay_mock.store.read_pool import Reader
from relay_mock.verify.model import VerifyConfig
from relay_mock.verify.run import verify_config
from relay_mock.verify.traces import load_trace, trace_page


def config_of(request: Request) -> VerifyConfig:
    return verify_config(request.app.state.settings, request.app.state.projects)


async def list_traces(request: Request) -> Response:
    page = await trace_page(
        request.app.state.reader,
        config_of(request),
        limit=int_param(request, "limit", 50, low=1, high=500) or 50,
        cursor=int_param(request, "cursor", None, low=0, high=2**62),
        project=request.query_params.get("project") or None,
        since=time_param(request, "since"),
    )
    return respond(models.TracePage, page)


async def get_trace(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    trace_id = request.path_params["trace_id"].replace("-", "").lower()
    if len(trace_id) != 32 or any(c not in "0123456789abcdef" for c in trace_id):
        raise BadParameter("trace_id", "expected 32 hex characters")
    trace = await load_trace(reader, config_of(request), trace_id)
    if trace is None:
        return error(404, f"no transactions or errors of trace {trace_id}")
    return respond(models.Trace, trace)
