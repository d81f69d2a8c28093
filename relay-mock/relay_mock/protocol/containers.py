"""Strict parsing of the container items: `log`, `trace_metric` and v2 `span`.

Their payload is `{"version": 2, "items": [...]}` and the item header says how many records
it holds (`item_count`). Relay refuses a container whose count does not match, whose
attributes are not typed as the protocol says, or that is too large; relay-mock refuses the
envelope that carries one, with a cause naming the item, the record and the field, as it
refuses any other malformed item.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypeGuard

import orjson

from relay_mock.protocol.envelope import Item
from relay_mock.protocol.ingest_errors import MalformedEnvelope, PayloadTooLarge

CONTAINER_TYPES = frozenset({"log", "trace_metric", "span"})

# Relay's limit for one span (wire facts: 1 MB per event / transaction / span item), held
# for each log and metric record too.
MAX_RECORD_BYTES = 1024 * 1024
# sentry-python flushes at most 1,000 spans or metrics (100 logs) per container.
MAX_RECORDS = 1000

LOG_LEVELS = frozenset({"trace", "debug", "info", "warn", "error", "fatal"})
METRIC_TYPES = frozenset({"counter", "gauge", "distribution"})
_TRACE_ID = (re.compile(r"[0-9a-f]{32}"), 32)
_SPAN_ID = (re.compile(r"[0-9a-f]{16}"), 16)


class InvalidContainer(MalformedEnvelope):
    reason = "invalid_container"


@dataclass(slots=True)
class TelemetryRecord:
    """One log, metric or streamed span of a container, as the store indexes it."""

    kind: str  # log | metric | span
    n: int  # position in the container
    timestamp: float
    trace_id: str | None
    span_id: str | None
    name: str | None = None  # metric name, span name, or a log's template
    level: str | None = None  # log level
    metric_type: str | None = None
    value: float | None = None
    unit: str | None = None
    body: str | None = None  # a log's text


def is_container(item: Item) -> bool:
    """`log` and `trace_metric` always are; a `span` item is a v2 container, or one v1 span."""
    if item.type in ("log", "trace_metric"):
        return True
    if item.type != "span":
        return False
    return "item_count" in item.header or str(item.header.get("content_type", "")).endswith("span.v2+json")


def parse_container(index: int, item: Item) -> list[TelemetryRecord]:
    """Validate a container item and return its records; raise InvalidContainer naming the fault."""
    where = f"item {index} ({item.type})"
    declared = item.header.get("item_count")
    if not isinstance(declared, int) or isinstance(declared, bool) or declared < 0:
        raise InvalidContainer(f"{where} has no valid item_count", f"item_count must be a count, got {declared!r}")
    if declared > MAX_RECORDS:
        raise PayloadTooLarge(
            f"{where} holds too many records",
            f"item_count {declared} > {MAX_RECORDS}",
            reason="too_many_records",
        )
    try:
        payload = orjson.loads(item.payload)
    except orjson.JSONDecodeError as exc:
        raise InvalidContainer(f"{where} payload is not valid JSON", str(exc)) from None
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        raise InvalidContainer(f"{where} is not a container", 'expected {"version": 2, "items": [...]}')
    version = payload.get("version", 2)
    if version != 2:
        raise InvalidContainer(f"{where} has an unknown container version", f"expected 2, got {version!r}")
    records = payload["items"]
    if len(records) != declared:
        raise InvalidContainer(
            f"{where} item_count does not match", f"the header says {declared}, the payload holds {len(records)}"
        )
    parse = _PARSERS[item.type]
    found = []
    for n, record in enumerate(records):
        if not isinstance(record, dict):
            raise InvalidContainer(f"{where} record {n} is not an object", f"got {type(record).__name__}")
        if len(item.payload) > MAX_RECORD_BYTES and len(orjson.dumps(record)) > MAX_RECORD_BYTES:
            raise PayloadTooLarge(
                f"{where} record {n} is too large", f"more than {MAX_RECORD_BYTES} bytes", reason="too_large_record"
            )
        try:
            _check_attributes(record.get("attributes"))
            found.append(parse(n, record))
        except _Invalid as exc:
            raise InvalidContainer(f"{where} record {n} is invalid", str(exc)) from None
    return found


class _Invalid(Exception):
    pass


def _log(n: int, record: dict[str, Any]) -> TelemetryRecord:
    level = record.get("level")
    if level not in LOG_LEVELS:
        raise _Invalid(f"level must be one of {', '.join(sorted(LOG_LEVELS))}, got {level!r}")
    body = record.get("body")
    if not isinstance(body, str):
        raise _Invalid(f"body must be a string, got {type(body).__name__}")
    template = _attribute_value(record, "sentry.message.template")
    return TelemetryRecord(
        "log",
        n,
        _timestamp(record, "timestamp"),
        _id(record, "trace_id", _TRACE_ID, required=True),
        _id(record, "span_id", _SPAN_ID, required=False),
        name=template if isinstance(template, str) else None,
        level=level,
        body=body,
    )


def _metric(n: int, record: dict[str, Any]) -> TelemetryRecord:
    name = record.get("name")
    if not isinstance(name, str) or not name:
        raise _Invalid(f"name must be a non-empty string, got {name!r}")
    kind = record.get("type")
    if kind not in METRIC_TYPES:
        raise _Invalid(f"type must be one of {', '.join(sorted(METRIC_TYPES))}, got {kind!r}")
    value = record.get("value")
    if not _is_number(value):
        raise _Invalid(f"value must be a number, got {value!r}")
    unit = record.get("unit")
    if unit is not None and not isinstance(unit, str):
        raise _Invalid(f"unit must be a string, got {unit!r}")
    return TelemetryRecord(
        "metric",
        n,
        _timestamp(record, "timestamp"),
        _id(record, "trace_id", _TRACE_ID, required=True),  # Relay requires it of metrics
        _id(record, "span_id", _SPAN_ID, required=False),
        name=name,
        metric_type=kind,
        value=float(value),
        unit=unit,
    )


def _span(n: int, record: dict[str, Any]) -> TelemetryRecord:
    start = _timestamp(record, "start_timestamp")
    end = _timestamp(record, "end_timestamp")
    if end < start:
        raise _Invalid("end_timestamp is before start_timestamp")
    name = record.get("name")
    if name is not None and not isinstance(name, str):
        raise _Invalid(f"name must be a string, got {name!r}")
    segment = record.get("is_segment", False)
    if not isinstance(segment, bool):
        raise _Invalid(f"is_segment must be a boolean, got {segment!r}")
    _id(record, "parent_span_id", _SPAN_ID, required=False)
    return TelemetryRecord(
        "span",
        n,
        start,
        _id(record, "trace_id", _TRACE_ID, required=True),
        _id(record, "span_id", _SPAN_ID, required=True),
        name=name,
        value=round((end - start) * 1000, 3),
        unit="millisecond",
    )


_PARSERS = {"log": _log, "trace_metric": _metric, "span": _span}

# An attribute is {"value": ..., "type": ...}; the type says what the value must be.
_ATTRIBUTE_CHECKS = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "double": lambda v: _is_number(v),
    "boolean": lambda v: isinstance(v, bool),
    "array": lambda v: isinstance(v, list),
}


def _check_attributes(attributes: Any) -> None:
    if attributes is None:
        return
    if not isinstance(attributes, dict):
        raise _Invalid(f"attributes must be an object, got {type(attributes).__name__}")
    for key, attribute in attributes.items():
        if not isinstance(attribute, dict) or "type" not in attribute or "value" not in attribute:
            raise _Invalid(f'attribute {key[:80]!r} must be {{"value": ..., "type": ...}}')
        kind = attribute["type"]
        check = _ATTRIBUTE_CHECKS.get(kind) if isinstance(kind, str) else None
        if check is None:
            raise _Invalid(f"attribute {key[:80]!r} has unknown type {kind!r}; known: {', '.join(_ATTRIBUTE_CHECKS)}")
        if not check(attribute["value"]):
            raise _Invalid(f"attribute {key[:80]!r} is typed {kind} but its value is {attribute['value']!r:.80}")


def _attribute_value(record: dict[str, Any], name: str) -> Any:
    attributes = record.get("attributes")
    attribute = attributes.get(name) if isinstance(attributes, dict) else None
    return attribute.get("value") if isinstance(attribute, dict) else None


def _timestamp(record: dict[str, Any], name: str) -> float:
    value = record.get(name)
    if not _is_number(value) or value < 0:
        raise _Invalid(f"{name} must be seconds since the epoch, got {value!r}")
    return float(value)


def _id(record: dict[str, Any], name: str, shape: tuple[re.Pattern[str], int], *, required: bool) -> str | None:
    value = record.get(name)
    if value is None and not required:
        return None
    pattern, length = shape
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise _Invalid(f"{name} must be {length} lowercase hex characters, got {str(value)[:80]!r}")
    return value


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, int | float) and not isinstance(value, bool)
