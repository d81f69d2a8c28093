"""A Model Context Protocol server (streamable HTTP at /mcp) so an AI assistant can
inspect what the sandbox captured: search errors, list and fetch traces, list envelopes.

Stateless JSON-RPC 2.0 over POST: each request gets one JSON answer; notifications get 202.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from relay_mock import __version__, models
from relay_mock.forwarding.report import report as forwarding_report
from relay_mock.inspection.operations import MAX_INDEX, OPERATIONS, Operation, Param
from relay_mock.inspection.params import Args, BadParameter, envelope_filter, log_filter, parse_value
from relay_mock.inspection.responses import ORJSONResponse
from relay_mock.models import as_json
from relay_mock.relay_view.item_view import NotFound, item_view
from relay_mock.spotlight import mcp_tools as spotlight_tools
from relay_mock.store import envelopes, relay_views, telemetry
from relay_mock.store import error_events as errors
from relay_mock.store.read_pool import Reader
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
class View:
    """A tool's arguments as a view of the inspection operation it answers like: each argument is
    one of the operation's parameters, with its schema (bounds, default, enum, pattern) and parser
    (inspection/params.py), under the tool's name for it where that differs (`aliases`: the
    tool's name to the operation's). `extra` are arguments the operation has not (Spotlight's
    `filters`, verify's relative `since_s`), declared here as their only place."""

    method: str
    path: str
    names: tuple[str, ...] = ()  # the operation's parameters the tool takes
    aliases: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def operation(self) -> Operation:
        (op,) = [op for op in OPERATIONS if (op.method, op.path) == (self.method, self.path)]
        return op

    def params(self) -> dict[str, Param]:
        """The tool's argument names to the operation's parameters they are."""
        declared = {param.name: param for param in self.operation.params}
        tool_name = {name: alias for alias, name in self.aliases.items()}
        return {tool_name.get(name, name): declared[name] for name in self.names}

    def schema(self) -> dict[str, Any]:
        params = self.params()
        properties = {name: {**param.schema, "description": param.description} for name, param in params.items()}
        required = [name for name, param in params.items() if param.where == "path"]
        properties.update(self.extra)
        return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}

    def parse(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """The arguments as the operation's parsed parameters (every one, defaults filled in, by the
        operation's names) and the extra ones as given. Raises BadParameter naming the argument."""
        params = self.params()
        given: dict[str, str | None] = {param.name: None for param in self.operation.params}
        for name, param in params.items():
            if name in arguments:
                given[param.name] = _as_text(name, param.schema, arguments[name])
        parsed: dict[str, Any] = {}
        for param in self.operation.params:
            tool_name = next((n for n, p in params.items() if p is param), param.name)
            try:
                parsed[param.name] = parse_value(param.name, param.schema, param.kind, given[param.name])
            except BadParameter as exc:
                raise BadParameter(tool_name, exc.message) from None
        for name, schema in self.extra.items():
            if schema.get("type") == "integer":  # bounded and defaulted as the operations' are
                parsed[name] = parse_value(name, schema, "integer", _as_text(name, schema, arguments.get(name)))
            elif name in arguments:
                parsed[name] = arguments[name]
        return parsed


def _as_text(name: str, schema: dict[str, Any], value: Any) -> str | None:
    """A JSON argument as the query string would carry it, after JSON's own type check."""
    if value is None:
        return None
    if schema.get("type") == "integer":
        if not isinstance(value, int) or isinstance(value, bool):
            raise BadParameter(name, "must be an integer")
        return str(value)
    if not isinstance(value, str):
        raise BadParameter(name, "must be a string")
    return value


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    view: View
    handler: Handler

    @property
    def schema(self) -> dict[str, Any]:
        return self.view.schema()


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
        limit=args["limit"],
        cursor=None,
        project=args["project"],
        trace_id=args["trace_id"],
        level=args["level"],
        query=args["q"],
    )
    return as_json(page)


async def _search_logs(request: Request, args: dict[str, Any]) -> Any:
    reader: Reader = request.app.state.reader
    if "filters" in args:
        return Answer(await spotlight_tools.search_logs(reader, args["filters"]))
    page = await reader.run(telemetry.list_records, log_filter(Args(args)), limit=args["limit"])
    return {"logs": [as_json(record) for record in page.records]}


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
        limit=args["limit"],
        cursor=None,
        project=args["project"],
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
    page = await reader.run(
        envelopes.list_envelopes,
        envelope_filter(Args(args)),
        limit=args["limit"],
        cursor=None,
        newest_first=True,
        payloads=False,
    )
    return as_json(page)


async def _list_leaks(request: Request, args: dict[str, Any]) -> Any:
    reader: Reader = request.app.state.reader
    backlog = request.app.state.relay_views.backlog
    leaks = await reader.run(
        relay_views.list_leaks, limit=args["limit"], project=args["project"], pending_envelopes=backlog
    )
    return as_json(leaks)


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
    since = time.time() - float(args["since_s"])
    trace_id = args["trace_id"]
    outcome = await run(reader, config_of(request), since=since, until=None, trace_id=trace_id)
    return as_json(outcome.to_model().report)


async def _get_relay_view(request: Request, args: dict[str, Any]) -> Any:
    """What Sentry would store of one item: Relay's normalization and scrubbing, with each change."""
    reader: Reader = request.app.state.reader
    if args["index"] > MAX_INDEX:  # beyond SQLite's integers: no such item either
        raise ToolError(f"no item {args['index']} in envelope {args['envelope_id']}")
    try:
        view = await reader.run(item_view, args["envelope_id"], args["index"], request.app.state.relay_views.scrubbing)
    except NotFound as exc:
        raise ToolError(str(exc)) from None
    return as_json(models.ItemView.model_validate(view))


# The arguments only a tool has: Spotlight's (its `filters`, get_traces' `traceId` prefix) and
# verify_traces' window relative to now (the operation's `since` is absolute).
SINCE_S = {"type": "integer", "minimum": 1, "maximum": 86_400, "default": 600, "description": "seconds back from now"}
TRACE_ID_PREFIX = {"type": "string", "pattern": "^[0-9a-fA-F]{1,32}$", "description": "a trace id or its first 8"}
FILTERS = {"filters": spotlight_tools.FILTER_SCHEMA}
TEXT = {"query": "q"}  # the tools' name for the operations' text search

TOOLS = {
    tool.name: tool
    for tool in (
        Tool(
            "search_errors",
            "Search captured error events by text in their exception, message or transaction.",
            View("GET", "/inspect/errors", ("q", "project", "trace_id", "level", "limit"), TEXT, FILTERS),
            _search_errors,
        ),
        Tool(
            "search_logs",
            "Search the services' Sentry logs (newest first) by text, service, level or trace; each log"
            " has its trace and span id, template and attributes.",
            View("GET", "/inspect/logs", ("q", "service", "level", "trace_id", "limit"), TEXT, FILTERS),
            _search_logs,
        ),
        Tool(
            "get_error",
            "One error event with its stack trace, breadcrumbs, tags and trace.",
            View("GET", "/inspect/errors/{event_id}", ("event_id",)),
            _get_error,
        ),
        Tool(
            "list_traces",
            "Recent traces: services involved, transactions, errors, duration, completeness.",
            View("GET", "/inspect/traces", ("project", "limit")),
            _list_traces,
        ),
        Tool(
            "get_trace",
            "One trace as a tree of every service's transactions and spans, broken links marked.",
            View("GET", "/inspect/traces/{trace_id}", ("trace_id",)),
            _get_trace,
        ),
        Tool(
            "list_envelopes",
            "Recent envelopes (headers and item summaries), optionally filtered.",
            View("GET", "/inspect/envelopes", ("type", "trace_id", "project", "limit")),
            _list_envelopes,
        ),
        Tool(
            "list_leaks",
            "Values that look like secrets (passwords, tokens, API keys, bearer credentials, cookies, card"
            " numbers) that survive both the SDK's hooks and Relay's data scrubbing, so Sentry would store"
            " them: where each one is (event, path), what it looks like, its first characters.",
            View("GET", "/inspect/leaks", ("project", "limit")),
            _list_leaks,
        ),
        Tool(
            "forwarding",
            "What relay-mock forwards to a real Sentry (RELAY_FORWARD), per project: envelopes pending, sent,"
            " rejected (with the upstream's answer), expired, possible duplicates, the oldest pending one's age,"
            " the last error, the upstream's HTTP statuses and rate limits in force. The upstream key is masked.",
            View("GET", "/inspect/forwarding"),
            _forwarding,
        ),
        Tool(
            "search_traces",
            "Spotlight's search_traces: recent traces (id, root transaction, duration, spans, errors), as"
            " Markdown; filters.timeWindow in seconds (60 by default), limit/offset to page.",
            View("GET", "/inspect/traces", extra=FILTERS),
            _search_traces,
        ),
        Tool(
            "get_traces",
            "Spotlight's get_traces: one trace's span tree across services, by its 32 hex characters or its first 8.",
            View("GET", "/inspect/traces/{trace_id}", extra={"traceId": TRACE_ID_PREFIX}),
            _get_traces,
        ),
        Tool(
            "verify_traces",
            "relay-mock's trace verifier: checks that each trace of the window crossed every service hop"
            " intact (completeness, linkage, identity, DSC, sampling, errors...), with each finding's cause.",
            View("GET", "/inspect/verify", ("trace_id",), extra={"since_s": SINCE_S}),
            _verify_traces,
        ),
        Tool(
            "get_relay_view",
            "What Sentry would store of one item (Relay's normalization and data scrubbing run on it), with"
            " each change and the rule that made it; envelope_id from list_envelopes, index the item's position.",
            View("GET", "/inspect/envelopes/{envelope_id}/items/{index:int}/relay", ("envelope_id", "index")),
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
    try:
        data = await tool.handler(request, _arguments(tool, params.get("arguments") or {}))
    except ToolError as exc:
        return _tool_result({"error": str(exc)}, is_error=True)
    if isinstance(data, Answer):
        return data.result
    return _tool_result(data, is_error=False)


def _arguments(tool: Tool, args: Any) -> dict[str, Any]:
    """The tool's arguments checked and parsed as its operation's parameters (View.parse); raises
    ToolError saying what is wrong (the client sees a result flagged isError)."""
    if not isinstance(args, dict):
        raise ToolError("arguments must be an object")
    schema = tool.schema
    for name in schema["required"]:
        if name not in args:
            raise ToolError(f"missing argument {name}")
    for name, value in args.items():
        if name not in schema["properties"]:
            raise ToolError(f"unknown argument {name}")
        if name == "filters":
            problem = spotlight_tools.check_filters(value)
            if problem:
                raise ToolError(problem)
        elif name == "traceId" and (not isinstance(value, str) or not re.fullmatch(TRACE_ID_PREFIX["pattern"], value)):
            raise ToolError("traceId must be hex characters: the trace id or its first 8")
    try:
        return tool.view.parse(args)
    except BadParameter as exc:
        raise ToolError(str(exc)) from None


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
