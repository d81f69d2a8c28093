"""`relay-mock tail`: a live terminal view of what relay-mock stores, read from its Spotlight
stream (`GET /stream`, spotlight/stream.py), so it sees every envelope, whoever sent it.

One line per error, log record, transaction or span, or metric; `--format human` (colours),
`json` (one object per line: NDJSON, the default when the output is not a terminal) or
`logfmt`. Filters: project (name or id), service (the project's name, the release's package or
the server name), trace id. When the connection drops, it reconnects with `Last-Event-ID`: the
server replays what came meanwhile, so nothing is lost or printed twice.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TextIO

import httpx
import orjson
from rich.console import Console
from rich.markup import escape

KINDS = {
    "errors": ("event",),
    "logs": ("log",),
    "traces": ("transaction", "span"),
    "metrics": ("trace_metric",),
}
KINDS["all"] = tuple(t for types in KINDS.values() for t in types)
RECONNECT_MAX_S = 5.0
LEVEL_STYLES = {
    "debug": "dim",
    "info": "cyan",
    "warning": "yellow",
    "warn": "yellow",
    "error": "red",
    "fatal": "bold red",
}
KIND_STYLES = {"error": "bold red", "log": "cyan", "transaction": "green", "span": "green", "metric": "magenta"}


@dataclass(frozen=True)
class Filters:
    item_types: tuple[str, ...]
    project: str | None = None
    service: str | None = None
    trace_id: str | None = None


def lines_of(envelope: list[Any], filters: Filters) -> list[dict[str, Any]]:
    """The records one `/stream` event holds that pass the filters, each a flat dict to print."""
    header, items = envelope
    meta = header.get("__relay_mock") or {}
    project = meta.get("project")
    if filters.project and filters.project not in (project, str(meta.get("project_id"))):
        return []
    base = {"project": project, "envelope_id": header.get("__spotlight_envelope_id")}
    found: list[dict[str, Any]] = []
    for item_header, payload in items:
        kind = item_header.get("type")
        if kind not in filters.item_types or not isinstance(payload, dict):
            continue
        for record in _records(kind, payload):
            line = {**base, **record}
            if filters.trace_id and line.get("trace_id") != filters.trace_id:
                continue
            if filters.service and filters.service not in _services(line, project):
                continue
            found.append({k: v for k, v in line.items() if v is not None})
    return found


def _services(line: dict[str, Any], project: str | None) -> set[str]:
    release = line.get("release")
    return {
        s
        for s in (project, line.get("server_name"), release.split("@", 1)[0] if isinstance(release, str) else None)
        if s
    }


def _trace(event: dict[str, Any]) -> dict[str, Any]:
    contexts = event.get("contexts")
    trace = contexts.get("trace") if isinstance(contexts, dict) else None
    return trace if isinstance(trace, dict) else {}


def _records(kind: str, payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if kind == "event":
        exception = payload.get("exception")
        values = exception.get("values") if isinstance(exception, dict) else None
        last = values[-1] if isinstance(values, list) and values and isinstance(values[-1], dict) else {}
        message = payload.get("message") or (payload.get("logentry") or {}).get("message")
        if isinstance(message, dict):
            message = message.get("formatted") or message.get("message")
        yield {
            "time": payload.get("timestamp"),
            "kind": "error",
            "level": payload.get("level") or "error",
            "event_id": payload.get("event_id"),
            "type": last.get("type"),
            "message": last.get("value") if last else message,
            "transaction": payload.get("transaction"),
            "trace_id": _trace(payload).get("trace_id"),
            "release": payload.get("release"),
            "server_name": payload.get("server_name"),
        }
    elif kind == "transaction":
        trace = _trace(payload)
        start, end = payload.get("start_timestamp"), payload.get("timestamp")
        yield {
            "time": start,
            "kind": "transaction",
            "name": payload.get("transaction"),
            "op": trace.get("op"),
            "status": trace.get("status"),
            "duration_ms": _duration(start, end),
            "trace_id": trace.get("trace_id"),
            "span_id": trace.get("span_id"),
            "spans": len(payload.get("spans") or []),
            "release": payload.get("release"),
            "server_name": payload.get("server_name"),
        }
    else:
        for record in payload.get("items") or []:
            if isinstance(record, dict):
                yield _container_record(kind, record)


def _attribute(record: dict[str, Any], name: str) -> Any:
    attributes = record.get("attributes")
    value = attributes.get(name) if isinstance(attributes, dict) else None
    return value.get("value") if isinstance(value, dict) else None


def _container_record(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    common = {
        "trace_id": record.get("trace_id"),
        "span_id": record.get("span_id"),
        "release": _attribute(record, "sentry.release"),
        "server_name": _attribute(record, "server.address"),
    }
    if kind == "log":
        return {"time": record.get("timestamp"), "kind": "log", "level": record.get("level"),
                "message": record.get("body"), **common}  # fmt: skip
    if kind == "span":
        start, end = record.get("start_timestamp"), record.get("end_timestamp")
        return {"time": start, "kind": "span", "name": record.get("name"), "op": _attribute(record, "sentry.op"),
                "status": record.get("status"), "duration_ms": _duration(start, end),
                "segment": record.get("is_segment"), **common}  # fmt: skip
    return {"time": record.get("timestamp"), "kind": "metric", "name": record.get("name"),
            "type": record.get("type"), "value": record.get("value"), "unit": record.get("unit"), **common}  # fmt: skip


def _duration(start: Any, end: Any) -> float | None:
    numbers = all(isinstance(t, int | float) and not isinstance(t, bool) for t in (start, end))
    return round((end - start) * 1000, 3) if numbers else None


# -- output -----------------------------------------------------------------------------------------


def as_logfmt(line: dict[str, Any]) -> str:
    def value(v: Any) -> str:
        text = v if isinstance(v, str) else orjson.dumps(v).decode()
        if text == "" or any(c in text for c in ' ="\\') or not text.isprintable():
            return orjson.dumps(text).decode()
        return text

    return " ".join(f"{key}={value(v)}" for key, v in line.items())


def as_human(line: dict[str, Any]) -> str:
    when = (
        datetime.fromtimestamp(line["time"]).strftime("%H:%M:%S.%f")[:-3]
        if isinstance(line.get("time"), int | float)
        else ""
    )
    kind = line.get("kind", "")
    level = str(line.get("level") or "")
    parts = [f"[dim]{when}[/dim]", f"[bold]{escape(str(line.get('project') or '')):<11}[/bold]",
             f"[{KIND_STYLES.get(kind, '')}]{kind:<11}[/]"]  # fmt: skip
    if level:
        parts.append(f"[{LEVEL_STYLES.get(level, '')}]{escape(level):<7}[/]")
    if kind == "error":
        parts.append(escape(": ".join(str(p) for p in (line.get("type"), line.get("message")) if p)))
    elif kind in ("transaction", "span"):
        parts.append(escape(f"{line.get('name') or ''} {line.get('op') or ''}".strip()))
        if line.get("duration_ms") is not None:
            parts.append(f"{line['duration_ms']:.1f} ms")
    elif kind == "metric":
        parts.append(escape(f"{line.get('name')} = {line.get('value')} {line.get('unit') or ''}".strip()))
    else:
        parts.append(escape(str(line.get("message") or "")))
    if line.get("trace_id"):
        parts.append(f"[dim]trace {line['trace_id']}[/dim]")
    return "  ".join(parts)


class Printer:
    def __init__(self, fmt: str, out: TextIO) -> None:
        self.fmt = fmt
        self.out = out
        self.console = Console(file=out, highlight=False, soft_wrap=True) if fmt == "human" else None

    def print(self, line: dict[str, Any]) -> None:
        if self.console is not None:
            self.console.print(as_human(line))
            return
        self.out.write((orjson.dumps(line).decode() if self.fmt == "json" else as_logfmt(line)) + "\n")
        self.out.flush()


# -- the stream ---------------------------------------------------------------------------------------


def events(response: httpx.Response) -> Iterator[tuple[str, str, str]]:
    """(event name, id, data) for each event of a Server-Sent Events response."""
    fields: dict[str, str] = {}
    data: list[str] = []
    for line in response.iter_lines():
        if line.startswith(":"):
            continue
        if line:
            name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if name == "data":
                data.append(value)
            else:
                fields[name] = value
            continue
        if data:
            yield fields.get("event", "message"), fields.get("id", ""), "\n".join(data)
        fields, data = {}, []


def follow(url: str, filters: Filters, printer: Printer, *, replay: int) -> None:
    """Print what arrives until interrupted; reconnect (with Last-Event-ID) when the connection drops."""
    headers = {"accept": "text/event-stream"}
    token = os.environ.get("RELAY_INSPECT_TOKEN")
    if token:
        headers["authorization"] = f"Bearer {token}"
    last_id = ""
    delay = 0.2
    with httpx.Client(timeout=httpx.Timeout(10, read=60)) as client:
        while True:
            asked = {**headers, **({"last-event-id": last_id} if last_id else {})}
            try:
                with client.stream(
                    "GET", f"{url.rstrip('/')}/stream", params={"backlog": replay}, headers=asked
                ) as response:
                    if response.status_code != 200:
                        response.read()
                        raise SystemExit(
                            f"relay-mock answered {response.status_code} on /stream: {response.text[:500]}"
                        )
                    delay = 0.2
                    for name, event_id, data in events(response):
                        if name == "relay-mock.behind":
                            print("relay-mock: this reader fell behind; catching up from the store", file=sys.stderr)
                            continue
                        if not name.startswith("application/x-sentry-envelope"):
                            continue
                        for line in lines_of(orjson.loads(data), filters):
                            printer.print(line)
                        last_id = event_id or last_id
            except (httpx.TransportError, httpx.RemoteProtocolError) as exc:
                print(f"relay-mock: connection lost ({exc.__class__.__name__}); reconnecting", file=sys.stderr)
            time.sleep(delay)
            delay = min(delay * 2, RECONNECT_MAX_S)
