"""Traces: a list (services, counts, duration, completeness) and one trace as a tree."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relay_mock.inspect.params import BadParameter, int_param, time_param
from relay_mock.inspect.responses import ORJSONResponse, error
from relay_mock.store import reader as queries
from relay_mock.store.reader import Reader
from relay_mock.traces import build_trace


def services_of(request: Request) -> set[str]:
    return {project.name for project in request.app.state.projects.values()}


async def trace_page(
    reader: Reader, services: set[str], *, limit: int, cursor: int | None, project: str | None, since: float | None
) -> dict[str, Any]:
    """One page of trace summaries, most recently active first (shared with the MCP tools)."""

    def query(conn: Any) -> tuple[list[str], int | None, dict[str, list[dict[str, Any]]]]:
        trace_ids, next_cursor = queries.list_trace_ids(conn, limit=limit, cursor=cursor, project=project, since=since)
        return trace_ids, next_cursor, queries.trace_items(conn, trace_ids)

    trace_ids, next_cursor, items = await reader.run(query)
    traces = []
    for trace_id in trace_ids:
        tree = build_trace(trace_id, items[trace_id], services)
        traces.append(
            {
                "trace_id": trace_id,
                "services": tree["services"],
                "transactions": tree["transactions"],
                "errors": tree["error_count"],
                "start": tree["start"],
                "duration_ms": tree["duration_ms"],
                "root": tree["roots"][0]["description"] if tree["roots"] else None,
                "complete": tree["complete"],
                "broken_links": len(tree["broken_links"]),
                "dsc_consistent": tree["dsc_consistent"],
            }
        )
    return {"traces": traces, "next_cursor": next_cursor}


async def load_trace(reader: Reader, services: set[str], trace_id: str) -> dict[str, Any] | None:
    items = await reader.run(queries.trace_items, [trace_id])
    return build_trace(trace_id, items[trace_id], services) if items[trace_id] else None


async def list_traces(request: Request) -> Response:
    page = await trace_page(
        request.app.state.reader,
        services_of(request),
        limit=int_param(request, "limit", 50, low=1, high=500) or 50,
        cursor=int_param(request, "cursor", None, low=0, high=2**62),
        project=request.query_params.get("project") or None,
        since=time_param(request, "since"),
    )
    return ORJSONResponse(page)


async def get_trace(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    trace_id = request.path_params["trace_id"].replace("-", "").lower()
    if len(trace_id) != 32 or any(c not in "0123456789abcdef" for c in trace_id):
        raise BadParameter("trace_id", "expected 32 hex characters")
    trace = await load_trace(reader, services_of(request), trace_id)
    if trace is None:
        return error(404, f"no transactions or errors of trace {trace_id}")
    return ORJSONResponse(trace)


routes = [
    Route("/inspect/traces", list_traces, methods=["GET"]),
    Route("/inspect/traces/{trace_id}", get_trace, methods=["GET"]),
]
