"""Request parsing for the inspection API: a bad query parameter answers 400 naming it, a body
that is not JSON answers 400 saying so (both through the app's exception handlers)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson
from starlette.requests import Request

from relay_mock.store.filters import EnvelopeFilter


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


def int_param(request: Request, name: str, default: int | None, *, low: int, high: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadParameter(name, f"expected an integer, got {raw[:40]!r}") from None
    if not low <= value <= high:
        raise BadParameter(name, f"must be between {low} and {high}")
    return value


def float_param(request: Request, name: str, default: float, *, low: float, high: float) -> float:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise BadParameter(name, f"expected a number, got {raw[:40]!r}") from None
    if not low <= value <= high:
        raise BadParameter(name, f"must be between {low} and {high}")
    return value


def time_param(request: Request, name: str) -> float | None:
    """A point in time: seconds since the epoch, or an ISO 8601 timestamp."""
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise BadParameter(name, f"expected epoch seconds or ISO 8601, got {raw[:40]!r}") from None
    return parsed.timestamp()


def choice_param(request: Request, name: str, values: tuple[str, ...], default: str) -> str:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw not in values:
        raise BadParameter(name, f"expected one of {', '.join(values)}, got {raw[:40]!r}")
    return raw


FLAGS = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}


def flag_param(request: Request, name: str, default: bool) -> bool:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    if raw not in FLAGS:
        raise BadParameter(name, f"expected true or false, got {raw[:40]!r}")
    return FLAGS[raw]


def hex_param(request: Request, name: str, length: int) -> str | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    value = raw.replace("-", "").lower()
    if len(value) != length or any(c not in "0123456789abcdef" for c in value):
        raise BadParameter(name, f"expected {length} hex characters, got {raw[:40]!r}")
    return value


def envelope_filter(request: Request) -> EnvelopeFilter:
    q = request.query_params
    return EnvelopeFilter(
        item_type=q.get("type") or None,
        trace_id=hex_param(request, "trace_id", 32),
        event_id=hex_param(request, "event_id", 32),
        project=q.get("project") or None,
        release=q.get("release") or None,
        environment=q.get("environment") or None,
        server_name=q.get("server_name") or None,
        since=time_param(request, "since"),
        until=time_param(request, "until"),
        forward=choice_param(request, "forward", FORWARD_STATES, "") or None,
    )


FORWARD_STATES = ("pending", "sent", "rejected", "expired", "none")
