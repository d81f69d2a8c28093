"""Spotlight's MCP tools on relay-mock's store: `search_errors`, `search_logs`, `search_traces` and
`get_traces`, with Spotlight's filters and answers in Spotlight's shape (@spotlightjs/spotlight
4.11.8, server/mcp/mcp.js), so an agent set up for Spotlight works unchanged.

Filters (`filters`, one object): `timeWindow` (seconds back from now; 60 when no filters are
given, as Spotlight's default), `filename` (errors whose stack trace names that file, exactly),
`limit`/`offset` (a page of the answer's text items). Spotlight reads its in-memory buffer of the
last 500 envelopes; relay-mock reads the newest SCAN_MAX envelopes of the kind asked for from
its store. Each answer is a list of Markdown text items: one per error event, one per log
record, a heading then one line per trace and a closing hint for `search_traces`, one span tree
for `get_traces`. The texts are written here after Spotlight's layout, not copied from it.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import orjson

from relay_mock import models
from relay_mock.spotlight.events import stream_event
from relay_mock.store import envelopes
from relay_mock.store.read_pool import Reader

SCAN_MAX = 500
DEFAULT_WINDOW_S = 60.0
TRACES_SHOWN = 20

NO_ERRORS = (
    "**No errors detected**\n\nrelay-mock stored no error events in this window. Reproduce the problem and"
    " call this tool again, or widen `timeWindow`."
)
NO_LOGS = (
    "**No logs detected**\n\nrelay-mock stored no Sentry logs in this window. Widen `timeWindow`, or check"
    " that the SDK sends logs (`enable_logs`)."
)
NO_TRACES = (
    "No traces found in the specified time period. Make sure your application is instrumented with Sentry"
    " performance monitoring and try triggering some requests or transactions."
)
NEXT_STEPS = (
    "\n**Next Steps:**\nUse `get_traces` with a trace ID (e.g., first 8 characters shown above) to see the full"
    " span tree and detailed timing breakdown for any specific trace."
)

FILTER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Spotlight's filters: timeWindow (seconds back), filename (in stack traces), limit/offset (paging)",
    "properties": {
        "timeWindow": {"type": "number", "exclusiveMinimum": 0},
        "filename": {"type": "string"},
        "limit": {"type": "integer", "minimum": 0},
        "offset": {"type": "integer", "minimum": 0, "default": 0},
    },
}


def check_filters(filters: Any) -> str | None:
    """What is wrong with Spotlight-style `filters`, or None."""
    if not isinstance(filters, dict):
        return "filters must be an object"
    for name, spec in FILTER_SCHEMA["properties"].items():
        if name not in filters:
            continue
        value = filters[name]
        if spec["type"] == "string":
            if not isinstance(value, str):
                return f"filters.{name} must be a string"
            continue
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if not numeric or (spec["type"] == "integer" and value != int(value)):
            return f"filters.{name} must be a {'number' if spec['type'] == 'number' else 'whole number'}"
        if value < 0 or (name == "timeWindow" and value == 0):
            return f"filters.{name} must be {'above' if name == 'timeWindow' else 'at least'} 0"
    return None


def window(filters: dict[str, Any] | None) -> float | None:
    """The `since` Spotlight's filters mean: the time window, 60 s when no filters were given."""
    if filters is None:
        return time.time() - DEFAULT_WINDOW_S
    if "timeWindow" in filters:
        return time.time() - float(filters["timeWindow"])
    return None


def _page(texts: list[str], filters: dict[str, Any] | None) -> list[str]:
    if filters is None or "limit" not in filters:
        return texts
    offset = int(filters.get("offset", 0))
    return texts[offset : offset + int(filters["limit"])]


def _content(texts: list[str]) -> dict[str, Any]:
    return {"content": [{"type": "text", "text": text} for text in texts], "isError": False}


async def _parsed(reader: Reader, item_types: tuple[str, ...], since: float | None) -> list[list[Any]]:
    """The newest envelopes holding these items, as Spotlight's parser makes them ([header, items])."""

    def read(conn: Any) -> list[list[Any]]:
        records = envelopes.newest_with_items(conn, item_types, since=since, limit=SCAN_MAX)
        return [orjson.loads(stream_event(record).data) for record in records]

    return await reader.run(read)


# -- search_errors ------------------------------------------------------------------------------


async def search_errors(reader: Reader, filters: dict[str, Any] | None) -> dict[str, Any]:
    filename = (filters or {}).get("filename")
    texts: list[str] = []
    for header, items in await _parsed(reader, ("event",), window(filters)):
        for item_header, event in items:
            if item_header.get("type") != "event" or not _is_error(event):
                continue
            if filename is not None and filename not in _filenames(event):
                continue
            texts.append(error_markdown(event, project=header.get("__relay_mock", {}).get("project")))
    return _content(_page(texts, filters) if texts else [NO_ERRORS])


def _is_error(event: Any) -> bool:
    return (
        isinstance(event, dict)
        and event.get("type") in (None, "event", "error")
        and bool(event.get("exception") or event.get("message") or event.get("logentry"))
    )


def _exceptions(event: dict[str, Any]) -> list[dict[str, Any]]:
    exception = event.get("exception")
    values = exception.get("values") if isinstance(exception, dict) else exception
    return [value for value in values or [] if isinstance(value, dict)] if isinstance(values, list) else []


def _frames(exception: dict[str, Any]) -> list[dict[str, Any]]:
    stacktrace = exception.get("stacktrace")
    frames = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
    return [frame for frame in frames or [] if isinstance(frame, dict)] if isinstance(frames, list) else []


def _filenames(event: dict[str, Any]) -> set[str]:
    return {str(f["filename"]) for e in _exceptions(event) for f in _frames(e) if f.get("filename")}


def _frame_line(frame: dict[str, Any], platform: str | None) -> str:
    file = frame.get("filename") or frame.get("abs_path") or frame.get("module") or "<unknown>"
    function = frame.get("function")
    line = frame.get("lineno")
    if platform == "python" or str(file).endswith(".py"):
        return f'  File "{file}"' + (f", line {line}" if line else "") + f", in {function or '<module>'}"
    if platform in ("javascript", "node") or str(file).endswith((".js", ".ts", ".jsx", ".tsx", ".mjs", ".cjs")):
        location = ":".join(str(part) for part in (file, line, frame.get("colno")) if part)
        return location + (f" ({function})" if function else "")
    return f"    at {function or '<unknown>'} ({file}" + (f":{line}" if line else "") + ")"


def error_markdown(event: dict[str, Any], *, project: str | None) -> str:
    platform = event.get("platform") if isinstance(event.get("platform"), str) else None
    parts: list[str] = []
    exceptions = _exceptions(event)
    message = event.get("message")
    if isinstance(message, dict):
        message = message.get("formatted") or message.get("message")
    logentry = event.get("logentry")
    if not message and isinstance(logentry, dict):
        message = logentry.get("formatted") or logentry.get("message")
    if message and not exceptions:
        parts += ["### Error", "", "```", str(message), "```", ""]
    for index, exception in enumerate(reversed(exceptions)):
        title = str(exception.get("type") or "Error") + (f": {exception['value']}" if exception.get("value") else "")
        if index:
            parts += ["", "**During handling of the above exception, another exception occurred:**", ""]
        parts += ["### Error" if index == 0 else f"### {title}", ""]
        if index == 0:
            parts += ["```", title, "```", ""]
        frames = _frames(exception)
        parts += ["**Stacktrace:**", "```"]
        parts.append("\n".join(_frame_line(f, platform) for f in frames) if frames else "No stacktrace available")
        parts += ["```", ""]
    request = event.get("request")
    if isinstance(request, dict) and request.get("method") and request.get("url"):
        parts += ["### HTTP Request", "", f"**Method:** {request['method']}", f"**URL:** {request['url']}", ""]
    tags = event.get("tags")
    pairs = tags.items() if isinstance(tags, dict) else (t for t in tags or [] if isinstance(t, list) and len(t) == 2)
    tag_lines = [f"**{key}**: {value}" for key, value in pairs]
    if tag_lines:
        parts += ["### Tags", "", *tag_lines, ""]
    parts += [
        "### relay-mock",
        "",
        f"**event_id**: {event.get('event_id', '')}",
        f"**project**: {project or ''}",
    ]
    trace = (event.get("contexts") or {}).get("trace") if isinstance(event.get("contexts"), dict) else None
    if isinstance(trace, dict) and trace.get("trace_id"):
        parts.append(f"**trace_id**: {trace['trace_id']} (get_traces or get_trace shows it)")
    return "\n".join(parts) + "\n"


# -- search_logs --------------------------------------------------------------------------------


async def search_logs(reader: Reader, filters: dict[str, Any] | None) -> dict[str, Any]:
    texts: list[str] = []
    for _, items in await _parsed(reader, ("log",), window(filters)):
        for item_header, payload in items:
            if item_header.get("type") != "log" or not isinstance(payload, dict):
                continue
            texts += [log_markdown(record) for record in payload.get("items") or [] if isinstance(record, dict)]
    return _content(_page(texts, filters) if texts else [NO_LOGS])


def log_markdown(record: dict[str, Any]) -> str:
    attributes = record.get("attributes")
    if not isinstance(attributes, dict):
        attributes = {}
    lines = [
        f"{key}: {value.get('value')} ({value.get('type')})"
        for key, value in attributes.items()
        if not key.startswith("sentry.") and isinstance(value, dict)
    ]
    head = f"{_iso(record.get('timestamp'))} {record.get('level', '')} {record.get('body', '')}"
    trace = f"\ntrace_id: {record['trace_id']}" if record.get("trace_id") else ""
    return f"{head}{trace}\nAttributes:\n" + "".join(f"{line}\n" for line in lines)


# -- search_traces, get_traces --------------------------------------------------------------------


def trace_summary_line(trace: models.Trace) -> str:
    nodes = trace.nodes()
    spans = sum(1 for node in nodes if node.kind == "span")
    root = next((node.description for node in nodes if node.kind == "transaction" and node.description), None)
    duration = f"{round(trace.duration_ms)}ms" if trace.duration_ms is not None else "unknown"
    return (
        f"**{trace.trace_id[:8]}** | {root or 'unnamed'} | {duration} | {spans} spans | {trace.error_count} errors"
        f" | {_iso(trace.start)}"
    )


def traces_answer(traces: list[models.Trace], filters: dict[str, Any] | None) -> dict[str, Any]:
    if not traces:
        return _content([NO_TRACES])
    texts = [f"# Local Traces ({len(traces)} found)\n\nRecent traces from your application:\n"]
    texts += [trace_summary_line(trace) for trace in traces[:TRACES_SHOWN]]
    return _content([*_page(texts, filters), NEXT_STEPS])


def span_tree(trace: models.Trace) -> str:
    """The trace as an indented tree (Spotlight's get_traces layout): transactions by name, spans by
    description and op, each with its short id and duration, children longest first; several roots
    hang under one node for the trace."""
    lines: list[str] = []

    def label(node: models.TraceNode) -> str:
        duration = f"{round(node.duration_ms)}ms" if node.duration_ms else "unknown"
        name = node.description or node.op or "unnamed"
        op = f" · {node.op}" if node.kind == "span" and node.op and node.op != "default" else ""
        service = f" · {node.service}" if node.kind == "transaction" else ""
        broken = f" · broken: {node.broken}" if node.broken else ""
        return f"{name} [{(node.span_id or '')[:8]}{op}{service} · {duration}]{broken}"

    def render(text: str, children: list[models.TraceNode], prefix: str, last: bool) -> None:
        connector = "" if prefix == "" else ("└─ " if last else "├─ ")
        lines.append(f"{prefix}{connector}{text}")
        ordered = sorted(children, key=lambda c: -(c.duration_ms or 0))
        for index, child in enumerate(ordered):
            render(label(child), child.children, prefix + ("   " if last else "│  "), index == len(ordered) - 1)

    if len(trace.roots) > 1:
        duration = f"{round(trace.duration_ms)}ms" if trace.duration_ms else "unknown"
        render(f"Trace {trace.trace_id[:8]} [{trace.trace_id[:16][:8]} · trace · {duration}]", trace.roots, "", True)
    else:
        for index, root in enumerate(trace.roots):
            render(label(root), root.children, "", index == len(trace.roots) - 1)
    return "\n".join(lines)


def trace_not_found(trace_id: str) -> dict[str, Any]:
    return _content(
        [
            f"Trace `{trace_id}` not found. Use `search_traces` to see available traces, or try expanding the time"
            " window if the trace is older."
        ]
    )


def _iso(ts: Any) -> str:
    if not isinstance(ts, int | float) or isinstance(ts, bool):
        return ""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
