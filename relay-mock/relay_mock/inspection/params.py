"""Request parsing for the inspection API, from the operations table's declarations: each
parameter's JSON schema (type, minimum, maximum, default, enum, pattern) is what is checked, once,
before the handler runs (inspection/operations.py); a bad one answers 400 naming it, a body that
is not JSON answers 400 saying so (both through the app's exception handlers)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import orjson
from starlette.requests import Request

from relay_mock.store.filters import EnvelopeFilter
from relay_mock.store.telemetry import TelemetryFilter, decode_cursor


class BadBody(Exception):
    """The body of a POST is not JSON."""


async def json_body(request: Request, *, empty: bytes = b"") -> Any:
    """The request body parsed as JSON; `empty` stands for a body that was not sent."""
    try:
        return orjson.loads(await request.body() or empty)
    except orjson.JSONDecodeError as exc:
        raise BadBody(str(exc)) from None


class BadParameter(Exception):
    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}

# How a parameter's text becomes its value, beyond what its schema says: the schema checks it,
# the kind converts it (a flag to a bool, a hex id without dashes in lower case, an instant to
# epoch seconds, a telemetry cursor to its three numbers).
Kind = Literal["text", "integer", "number", "choice", "flag", "hex", "instant", "telemetry_cursor"]


def parse_value(name: str, schema: dict[str, Any], kind: Kind, raw: str | None) -> Any:
    """One parameter's value: `raw` (None or "" when not sent) checked against `schema`."""
    if raw is None or raw == "":
        default = schema.get("default")
        return parse_value(name, schema, kind, str(default)) if default is not None else None
    if kind == "integer":
        try:
            value: Any = int(raw)
        except ValueError:
            raise BadParameter(name, f"expected an integer, got {raw[:40]!r}") from None
        return _bounded(name, schema, value)
    if kind == "number":
        try:
            value = float(raw)
        except ValueError:
            raise BadParameter(name, f"expected a number, got {raw[:40]!r}") from None
        return _bounded(name, schema, value)
    if kind == "instant":
        return _instant(name, raw)
    if kind == "flag":
        if raw not in FLAGS:
            raise BadParameter(name, f"expected true or false, got {raw[:40]!r}")
        return FLAGS[raw]
    if kind == "choice" and raw not in schema["enum"] and raw.lower() in schema["enum"]:
        raw = raw.lower()  # `?level=ERROR` is `?level=error`: the values are lower case, people's typing is not
    if "enum" in schema and raw not in schema["enum"]:
        raise BadParameter(name, f"expected one of {', '.join(schema['enum'])}, got {raw[:40]!r}")
    if "pattern" in schema and not re.search(schema["pattern"], raw):
        raise BadParameter(name, f"expected {_expected(schema, kind)}, got {raw[:40]!r}")
    if kind == "hex":
        return raw.replace("-", "").lower()
    if kind == "telemetry_cursor":
        cursor = decode_cursor(raw)
        if cursor is None:
            raise BadParameter(name, f"expected the next_cursor of a previous page, got {raw[:40]!r}")
        return cursor
    return raw


def _bounded(name: str, schema: dict[str, Any], value: Any) -> Any:
    low, high = schema.get("minimum"), schema.get("maximum")
    if (low is not None and value < low) or (high is not None and value > high):
        raise BadParameter(name, f"must be between {low} and {high}" if high is not None else f"must be {low} or more")
    return value


def _expected(schema: dict[str, Any], kind: Kind) -> str:
    if kind == "hex":
        length = re.search(r"\{(\d+)\}", schema["pattern"])
        return f"{length.group(1) if length else 'some'} hex characters"
    if kind == "telemetry_cursor":
        return "the next_cursor of a previous page"
    return f"a value matching {schema['pattern']}"


def _instant(name: str, raw: str) -> float:
    """A point in time: seconds since the epoch, or an ISO 8601 timestamp."""
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadParameter(name, f"expected epoch seconds or ISO 8601, got {raw[:40]!r}") from None
    return parsed.timestamp()


@dataclass(frozen=True)
class Args:
    """An operation's parameters as parsed from its declarations (defaults filled in); the
    handler reads them here, typed, instead of from the query string."""

    values: dict[str, Any]

    def integer(self, name: str) -> int:
        value = self.values[name]
        assert isinstance(value, int), f"{name} is declared without a default"
        return value

    def optional_integer(self, name: str) -> int | None:
        value = self.values[name]
        assert value is None or isinstance(value, int)
        return value

    def number(self, name: str) -> float:
        value = self.values[name]
        assert isinstance(value, (int, float)), f"{name} is declared without a default"
        return float(value)

    def instant(self, name: str) -> float | None:
        value = self.values[name]
        assert value is None or isinstance(value, float)
        return value

    def text(self, name: str) -> str | None:
        value = self.values[name]
        assert value is None or isinstance(value, str)
        return value

    def flag(self, name: str) -> bool:
        value = self.values[name]
        assert isinstance(value, bool), f"{name} is declared without a default"
        return value

    def get(self, name: str) -> Any:
        return self.values[name]


def args_of(request: Request) -> Args:
    """The parameters the operation's route parsed before calling its handler."""
    parsed = request.state.args
    assert isinstance(parsed, Args)
    return parsed


def envelope_filter(args: Args) -> EnvelopeFilter:
    """The envelope filters (operations.ENVELOPE_FILTERS), and `forward` where it is declared."""
    return EnvelopeFilter(
        item_type=args.text("type"),
        trace_id=args.text("trace_id"),
        event_id=args.text("event_id"),
        project=args.text("project"),
        release=args.text("release"),
        environment=args.text("environment"),
        server_name=args.text("server_name"),
        since=args.instant("since"),
        until=args.instant("until"),
        forward=args.values.get("forward"),
    )


def int_param(request: Request, name: str, default: int, *, low: int, high: int) -> int:
    """An integer query parameter of a route outside the operations table (Spotlight's `/stream`)."""
    value = parse_value(name, {"type": "integer", "minimum": low, "maximum": high, "default": default}, "integer",
                        request.query_params.get(name))  # fmt: skip
    assert isinstance(value, int)
    return value


# What people type for the level the protocol spells "warn".
_LEVEL_ALIASES = {"warning": "warn", "critical": "fatal"}


def log_filter(args: Args) -> TelemetryFilter:
    level = args.text("level")
    return TelemetryFilter(
        kind="log",
        project=args.text("service"),
        trace_id=args.text("trace_id"),
        span_id=args.text("span_id"),
        level=_LEVEL_ALIASES.get(level, level) if level is not None else None,
        name=args.text("template"),
        query=args.text("q"),
        since=args.instant("since"),
        until=args.instant("until"),
    )
