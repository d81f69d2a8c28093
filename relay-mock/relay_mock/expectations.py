"""Expectations: the traces a load generator or a test started, recorded as ground truth.

A trace that was expected and never arrived counts as lost, not as absent.
"""

from __future__ import annotations

import re
import time
from typing import Any

import orjson

TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_BATCH = 10_000
# How a caller sends trace context: sentry-trace + baggage, W3C traceparent + tracestate, or both.
PROPAGATIONS = ("sentry", "w3c", "both")
WITNESS_KEYS = ("received", "service", "sampled", "traceparent", "trace_id")


class ExpectationError(ValueError):
    def __init__(self, index: int, field_name: str, message: str) -> None:
        super().__init__(f"expectations[{index}].{field_name}: {message}")
        self.where = f"expectations[{index}].{field_name}"
        self.message = message


def parse_batch(body: Any) -> list[tuple[Any, ...]]:
    """Validate a POSTed batch (a list, or {"expectations": [...]}) into table rows."""
    items = body.get("expectations") if isinstance(body, dict) else body
    if not isinstance(items, list):
        raise ExpectationError(0, "body", 'expected a list or {"expectations": [...]}')
    if len(items) > MAX_BATCH:
        raise ExpectationError(MAX_BATCH, "body", f"at most {MAX_BATCH} per request")
    now = time.time()
    return [_row(index, item, now) for index, item in enumerate(items)]


_REQUIRED = object()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    # JSON has one number type: 404.0 is an integer too (JSON Schema says so).
    return _is_number(value) and float(value).is_integer()


def _is_status(value: Any) -> bool:
    # Bounded: SQLite stores integers up to 2**63 only, and a status has three digits.
    return _is_integer(value) and 0 <= value <= 999


def _integer(value: Any) -> int | None:
    return None if value is None else int(value)


def _is_str_list(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _is_witness_list(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(w, dict)
        and (w.get("received") is None or isinstance(w.get("received"), str))
        and (w.get("service") is None or isinstance(w.get("service"), str))
        and (w.get("sampled") is None or isinstance(w.get("sampled"), bool))  # `0 in (False,)` holds
        and (w.get("traceparent") is None or isinstance(w.get("traceparent"), str))
        and (w.get("trace_id") is None or isinstance(w.get("trace_id"), str))
        for w in value
    )


def _row(index: int, item: Any, now: float) -> tuple[Any, ...]:
    if not isinstance(item, dict):
        raise ExpectationError(index, "", "expected an object")

    def field(name: str, valid: Any, message: str, default: Any = _REQUIRED) -> Any:
        value = item.get(name)
        if value is None:
            if default is _REQUIRED:
                raise ExpectationError(index, name, "required")
            return default
        if not valid(value):
            raise ExpectationError(index, name, message)
        return value

    baggage = field(
        "baggage",
        lambda v: isinstance(v, dict) and all(isinstance(value, str) for value in v.values()),
        "an object of sentry-* baggage values (strings)",
        None,
    )
    return (
        field("trace_id", lambda v: isinstance(v, str) and TRACE_ID.match(v), "32 lowercase hex characters"),
        field("scenario", lambda v: isinstance(v, str) and v, "a non-empty string"),
        float(field("started_at", _is_number, "seconds since the epoch", now)),
        int(field("sampled", lambda v: isinstance(v, bool), "true or false", True)),
        field("sample_rand", _is_number, "a number", None),
        field("sample_rate", _is_number, "a number", None),
        orjson.dumps(field("expect_services", _is_str_list, "a list of service names, the head first", [])).decode(),
        orjson.dumps(field("expect_errors_from", _is_str_list, "a list of service names", [])).decode(),
        orjson.dumps(baggage).decode() if baggage is not None else None,
        _integer(field("status_code", _is_status, "an HTTP status, 0 to 999", None)),
        field("outcome", lambda v: isinstance(v, str), "a string", None),
        now,
        float(field("ended_at", _is_number, "seconds since the epoch", None) or 0) or None,
        _witnesses(
            field(
                "witnesses",
                _is_witness_list,
                'a list of {"received": str | null, "service": str, "sampled": bool | null,'
                ' "traceparent": str | null, "trace_id": str | null}',
                None,
            )
        ),
        field("propagation", lambda v: v in PROPAGATIONS, f"one of {', '.join(PROPAGATIONS)}", "sentry"),
    )


def _witnesses(value: list[dict[str, Any]] | None) -> str | None:
    if value is None:
        return None
    return orjson.dumps([{key: w.get(key) for key in WITNESS_KEYS} for w in value]).decode()
