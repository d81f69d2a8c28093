"""A Model Context Protocol server (streamable HTTP at /mcp) so an AI assistant can
inspect what the sandbox captured: search errors, list and fetch traces, list envelopes.

Stateless JSON-RPC 2.0 over POST: each request gets one JSON answer; notifications get 202.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relay_mock import __version__
from relay_mock.inspection import forwarding
from relay_mock.inspection.responses import ORJSONResponse
from relay_mock.inspection.traces import config_of, load_trace, trace_page
from relay_mock.models import as_json
from relay_mock.protocol.containers import LOG_LEVELS
from relay_mock.store import envelopes, errors, relay_views, telemetry
from relay_mock.store.filters import EnvelopeFilter
from relay_mock.store.read_pool import Reader
from relay_mock.store.telemetry import TelemetryFilter

logger = logging.getLogger(__name__)

SUPPORTED_VERSIONS = ("2025-06-18", "2025-03-26", "2024-11-05")
INSTRUCTIONS = (
    "relay-mock captured every envelope the sandbox's Sentry SDKs sent. Use search_errors to find "
    "exceptions, list_traces and get_trace to follow a request across services, search_logs for the services'"
    " Sentry logs, list_envelopes for raw data."
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


async def _search_errors(request: Request, args: dict[str, Any]) -> Any:
    reader: Reader = request.app.state.reader
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
    result = await reader.run(relay_views.list_leaks, limit=args.get("limit", 20), project=args.get("project"))
    result["pending_envelopes"] = request.app.state.relay_views.backlog
    return result


async def _forwarding(request: Request, args: dict[str, Any]) -> Any:
    return as_json(await forwarding.report(request.app.state))


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
