"""A Model Context Protocol server (streamable HTTP at /mcp) so an AI assistant can
inspect what the sandbox captured: search errors, list and fetch traces, list envelopes.

Stateless JSON-RPC 2.0 over POST: each request gets one JSON answer; notifications get 202.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relay_mock import __version__, models
from relay_mock.inspection.forwarding import report as forwarding_report
from relay_mock.inspection.responses import ORJSONResponse
from relay_mock.models import as_json
from relay_mock.protocol.containers import LOG_LEVELS
from relay_mock.relay_view.item_view import NotFound, item_view
from relay_mock.spotlight import mcp_tools as spotlight_tools
from relay_mock.store import envelopes, relay_views, telemetry
from relay_mock.store import error_events as errors
from relay_mock.store.filters import EnvelopeFilter
from relay_mock.store.read_pool import Reader
from relay_mock.store.telemetry import TelemetryFilter
from relay_mock.store.traces import list_trace_ids
from relay_mock.verify.model import VerifyConfig
from relay_mock.verify.run import run, verify_config
from relay_mock.verify.traces import load_trace, load_traces, trace_page

logger = logging.getLogger(__name__)


def config_of(request: Request) -> VerifyConfig:
    """How to verify: relay-mock's projects, as /inspect/verify starts from."""
    return verify_config(request.app.state.settings, request.app.state.projects)


SUPPORTED_VERSIONS = ("2025-06-18", "2025-03-26", "2024-11-05")
INSTRUCTIONS = (
    "relay-mock captured every envelope the sandbox's Sentry SDKs sent. Use search_errors to find "
    "exceptions, list_traces and get_trace to follow a request across services, search_logs for the services'"
    " Sentry logs, list_envelopes for raw data. Spotlight's tools work too: search_errors and search_logs with"
    " `filters` (timeWindow, filename, limit/offset), search_traces and get_traces answer as Spotlight does."
    " verify_traces checks that traces crossed the hops intact; get_relay_view shows what Sentry would store."
)

Handler = Callable[[Request, dict[str, Any]], Awaitable[Any]]


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    schema: dict[str, Any]
    handler: Handler


def _schema(properties: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(required), "additionalProperties": False}


LIMIT = {"type": "integer", "minimum": 1, "maximum": 200, "default": 20}
TRACE_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$", "description": "32 lowercase hex characters"}


@dataclass(frozen=True)
class Answer:
    """A tool result already in MCP's shape (Spotlight's tools answer with Markdown text items only)."""

    result: dict[str, Any]


async def _search_errors(request: Request, args: dict[str, Any]) -> Any:
    reader: Reader = request.app.state.reader
    if "filters" in args:
        return Answer(await spotlight_tools.search_errors(reader, args["filters"]))
    page = await reader.run(
        errors.list_errors,
        limit=args.get("limit", 20),
        cursor=None,
        project=args.get("project"),
        trace_id=args.get("trace_id"),
        level=args.get("level"),
        query=args.get("query"),
    )
    return as_json(page)


async def _search_logs(request: Request, args: dict[str, Any]) -> Any:
    reader: Reader = request.app.state.reader
    if "filters" in args:
        return Answer(await spotlight_tools.search_logs(reader, args["filters"]))
    flt = TelemetryFilter(
        kind="log",
        project=args.get("service"),
        trace_id=args.get("trace_id"),
        level=args.get("level"),
        query=args.get("query"),
    )
    page = await reader.run(telemetry.list_records, flt, limit=args.get("limit", 20))
    return {"logs": page["records"]}


async def _get_error(request: Request, args: dict[str, Any]) -> Any:
    reader: Reader = request.app.state.reader
    found = await reader.run(errors.get_error, args["event_id"].replace("-", "").lower())
    if found is None:
        raise ToolError(f"no error event {args['event_id']}")
    return found.model_dump(mode="json", exclude_unset=True, exclude={"event"})


async def _list_traces(request: Request, args: dict[str, Any]) -> Any:
    page = await trace_page(
        request.app.state.reader,
        config_of(request),
        limit=args.get("limit", 20),
        cursor=None,
        project=args.get("project"),
        since=None,
    )
    return as_json(page)


async def _get_trace(request: Request, args: dict[str, Any]) -> Any:
    trace = await load_trace(request.app.state.reader, config_of(request), args["trace_id"])
    if trace is None:
        raise ToolError(f"no transactions or errors of trace {args['trace_id']}")
    return as_json(trace)


async def _list_envelopes(request: Request, args: dict[str, Any]) -> Any:
    reader: Reader = request.app.state.reader
    flt = EnvelopeFilter(item_type=args.get("type"), trace_id=args.get("trace_id"), project=args.get("project"))
    page = await reader.run(
        envelopes.list_envelopes, flt, limit=args.get("limit", 20), cursor=None, newest_first=True, payloads=False
    )
    return as_json(page)


async def _list_leaks(request: Request, args: dict[str, Any]) -> Any:
    reader: Reader = request.app.state.reader
    backlog = request.app.state.relay_views.backlog
    limit, project = args.get("limit", 20), args.get("project")
    return as_json(await reader.run(relay_views.list_leaks, limit=limit, project=project, pending_envelopes=backlog))


async def _forwarding(request: Request, args: dict[str, Any]) -> Any:
    return as_json(await forwarding_report(request.app.state))


async def _search_traces(request: Request, args: dict[str, Any]) -> Any:
    """Spotlight's search_traces: the traces active in the window, newest first (filename is accepted
    and does not narrow traces here)."""
    reader: Reader = request.app.state.reader
    filters = args.get("filters")
    window = spotlight_tools.window(filters)
    trace_ids, _ = await reader.run(
        list_trace_ids, limit=spotlight_tools.TRACES_SHOWN, cursor=None, project=None, since=window
    )
    trees = await load_traces(reader, config_of(request), trace_ids)
    traces = [trees[trace_id] for trace_id in trace_ids if trace_id in trees]
    return Answer(spotlight_tools.traces_answer(traces, filters))


async def _get_traces(request: Request, args: dict[str, Any]) -> Any:
    """Spotlight's get_traces: one trace's span tree, by its id or its first characters."""
    reader: Reader = request.app.state.reader
    wanted = args["traceId"].strip().lower()
    trace_id = wanted if len(wanted) == 32 else await reader.run(envelopes.trace_id_with_prefix, wanted)
    trace = await load_trace(reader, config_of(request), trace_id) if trace_id else None
    if trace is None:
        return Answer(spotlight_tools.trace_not_found(args["traceId"]))
    return Answer({"content": [{"type": "text", "text": spotlight_tools.span_tree(trace)}], "isError": False})


async def _verify_traces(request: Request, args: dict[str, Any]) -> Any:
    """The trace verifier over the last `since_s` seconds (or one trace): the report /inspect/verify gives."""
    reader: Reader = request.app.state.reader
    since = time.time() - float(args.get("since_s", 600))
    trace_id = args.get("trace_id")
    outcome = await run(reader, config_of(request), since=since, until=None, trace_id=trace_id)
    return as_json(outcome.to_model().report)


async def _get_relay_view(request: Request, args: dict[str, Any]) -> Any:
    """What Sentry would store of one item: Relay's normalization and scrubbing, with each change."""
    reader: Reader = request.app.state.reader
    try:
        view = await reader.run(item_view, args["envelope_id"], args["index"], request.app.state.relay_views.scrubbing)
    except NotFound as exc:
        raise ToolError(str(exc)) from None
    return as_json(models.ItemView.model_validate(view))


TOOLS = {
    tool.name: tool
    for tool in (
        Tool(
            "search_errors",
            "Search captured error events by text in their exception, message or transaction.",
            _schema(
                {
                    "query": {"type": "string"},
                    "project": {"type": "string", "description": "project name (api, downstream) or id"},
                    "trace_id": TRACE_ID,
                    "level": {"type": "string"},
                    "limit": LIMIT,
                    "filters": spotlight_tools.FILTER_SCHEMA,
                }
            ),
            _search_errors,
        ),
        Tool(
            "search_logs",
            "Search the services' Sentry logs (newest first) by text, service, level or trace; each log"
            " has its trace and span id, template and attributes.",
            _schema(
                {
                    "query": {"type": "string", "description": "text the log message contains"},
                    "service": {"type": "string", "description": "api, downstream, ..."},
                    "level": {"type": "string", "enum": sorted(LOG_LEVELS)},
                    "trace_id": TRACE_ID,
                    "limit": LIMIT,
                    "filters": spotlight_tools.FILTER_SCHEMA,
                }
            ),
            _search_logs,
        ),
        Tool(
            "get_error",
            "One error event with its stack trace, breadcrumbs, tags and trace.",
            _schema({"event_id": {"type": "string"}}, ("event_id",)),
            _get_error,
        ),
        Tool(
            "list_traces",
            "Recent traces: services involved, transactions, errors, duration, completeness.",
            _schema({"project": {"type": "string"}, "limit": LIMIT}),
            _list_traces,
        ),
        Tool(
            "get_trace",
            "One trace as a tree of every service's transactions and spans, broken links marked.",
            _schema({"trace_id": TRACE_ID}, ("trace_id",)),
            _get_trace,
        ),
        Tool(
            "list_envelopes",
            "Recent envelopes (headers and item summaries), optionally filtered.",
            _schema({"type": {"type": "string"}, "trace_id": TRACE_ID, "project": {"type": "string"}, "limit": LIMIT}),
            _list_envelopes,
        ),
        Tool(
            "list_leaks",
            "Values that look like secrets (passwords, tokens, API keys, bearer credentials, cookies, card"
            " numbers) that survive both the SDK's hooks and Relay's data scrubbing, so Sentry would store"
            " them: where each one is (event, path), what it looks like, its first characters.",
            _schema({"project": {"type": "string"}, "limit": LIMIT}),
            _list_leaks,
        ),
        Tool(
            "forwarding",
            "What relay-mock forwards to a real Sentry (RELAY_FORWARD), per project: envelopes pending, sent,"
            " rejected (with the upstream's answer), expired, possible duplicates, the oldest pending one's age,"
            " the last error, the upstream's HTTP statuses and rate limits in force. The upstream key is masked.",
            _schema({}),
            _forwarding,
        ),
        Tool(
            "search_traces",
            "Spotlight's search_traces: recent traces (id, root transaction, duration, spans, errors), as"
            " Markdown; filters.timeWindow in seconds (60 by default), limit/offset to page.",
            _schema({"filters": spotlight_tools.FILTER_SCHEMA}),
            _search_traces,
        ),
        Tool(
            "get_traces",
            "Spotlight's get_traces: one trace's span tree across services, by its 32 hex characters or its first 8.",
            _schema({"traceId": {"type": "string", "pattern": "^[0-9a-fA-F]{1,32}$"}}, ("traceId",)),
            _get_traces,
        ),
        Tool(
            "verify_traces",
            "relay-mock's trace verifier: checks that each trace of the window crossed every service hop"
            " intact (completeness, linkage, identity, DSC, sampling, errors...), with each finding's cause.",
            _schema(
                {"since_s": {"type": "integer", "minimum": 1, "maximum": 86_400, "default": 600}, "trace_id": TRACE_ID}
            ),
            _verify_traces,
        ),
        Tool(
            "get_relay_view",
            "What Sentry would store of one item (Relay's normalization and data scrubbing run on it), with"
            " each change and the rule that made it; envelope_id from list_envelopes, index the item's position.",
            _schema(
                {"envelope_id": {"type": "string"}, "index": {"type": "integer", "minimum": 0, "maximum": 10_000}},
                ("envelope_id", "index"),
            ),
            _get_relay_view,
        ),
    )
}


class ToolError(Exception):
    """A tool ran but could not answer; reported to the client as a tool result with isError."""


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


async def endpoint(request: Request) -> Response:
    if request.method != "POST":
        return Response(status_code=405, headers={"allow": "POST"})
    try:
        message = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return ORJSONResponse(_error(None, -32700, "parse error: the body is not JSON"), status_code=400)
    if not isinstance(message, dict) or message.get("jsonrpc") != "2.0" or not isinstance(message.get("method"), str):
        return ORJSONResponse(_error(None, -32600, "invalid request: expected a JSON-RPC 2.0 object"), status_code=400)
    if "id" not in message:
        return Response(status_code=202)  # a notification, e.g. notifications/initialized
    request_id = message["id"]
    try:
        result = await _dispatch(request, message["method"], message.get("params") or {})
    except RpcError as exc:
        return ORJSONResponse(_error(request_id, exc.code, exc.message))
    return ORJSONResponse({"jsonrpc": "2.0", "id": request_id, "result": result})


async def _dispatch(request: Request, method: str, params: Any) -> Any:
    if not isinstance(params, dict):
        raise RpcError(-32602, "params must be an object")
    if method == "initialize":
        asked = params.get("protocolVersion")
        return {
            "protocolVersion": asked if asked in SUPPORTED_VERSIONS else SUPPORTED_VERSIONS[0],
            "capabilities": {"tools": {"listChanged": False}},
            "serverInfo": {"name": "relay-mock", "title": "Sentry sandbox relay-mock", "version": __version__},
            "instructions": INSTRUCTIONS,
        }
    if method == "ping":
        return {}
    if method == "tools/list":
        return {
            "tools": [{"name": t.name, "description": t.description, "inputSchema": t.schema} for t in TOOLS.values()]
        }
    if method == "tools/call":
        return await _call_tool(request, params)
    raise RpcError(-32601, f"method not found: {method}")


async def _call_tool(request: Request, params: dict[str, Any]) -> dict[str, Any]:
    tool = TOOLS.get(params.get("name", ""))
    if tool is None:
        raise RpcError(-32602, f"unknown tool: {params.get('name')!r}")
    args = params.get("arguments") or {}
    problem = _check_arguments(tool.schema, args)
    if problem:
        return _tool_result({"error": problem}, is_error=True)
    try:
        data = await tool.handler(request, args)
    except ToolError as exc:
        return _tool_result({"error": str(exc)}, is_error=True)
    if isinstance(data, Answer):
        return data.result
    return _tool_result(data, is_error=False)


def _check_arguments(schema: dict[str, Any], args: Any) -> str | None:
    if not isinstance(args, dict):
        return "arguments must be an object"
    properties = schema["properties"]
    for name in schema["required"]:
        if name not in args:
            return f"missing argument {name}"
    for name, value in args.items():
        spec = properties.get(name)
        if spec is None:
            return f"unknown argument {name}"
        if name == "filters":
            problem = spotlight_tools.check_filters(value)
            if problem:
                return problem
            continue
        if name == "traceId" and (not isinstance(value, str) or not re.fullmatch(spec["pattern"], value)):
            return "traceId must be hex characters: the trace id or its first 8"
        if spec["type"] == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
            return f"{name} must be an integer"
        if spec["type"] == "integer" and not spec.get("minimum", value) <= value <= spec.get("maximum", value):
            return f"{name} must be between {spec['minimum']} and {spec['maximum']}"
        if spec["type"] == "string" and not isinstance(value, str):
            return f"{name} must be a string"
        if "enum" in spec and value not in spec["enum"]:
            return f"{name} must be one of {', '.join(spec['enum'])}"
        if name == "trace_id" and (len(value) != 32 or any(c not in "0123456789abcdef" for c in value)):
            return "trace_id must be 32 lowercase hex characters"
    return None


def _tool_result(data: Any, *, is_error: bool) -> dict[str, Any]:
    structured = data if isinstance(data, dict) else {"result": data}
    return {
        "content": [{"type": "text", "text": orjson.dumps(structured, option=orjson.OPT_INDENT_2).decode()}],
        "structuredContent": structured,
        "isError": is_error,
    }


def _error(request_id: Any, code: int, message: str) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}


routes = [Route("/mcp", endpoint, methods=["GET", "POST", "DELETE"])]
