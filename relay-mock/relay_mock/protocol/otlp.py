"""OTLP/HTTP requests (traces and logs) decoded and turned into Sentry's container records.

Relay takes OTLP spans down its span-streaming path (relay#5631): they become v2 spans, not
transactions. relay-mock does the same, so an OTLP span is read by every reader of a `span`
item (trace views, the verifier, MCP, export) with no second code path; OTLP logs become the
records of a `log` item, as Sentry's own logs are. See docs/architecture.md.

Pure: bytes in, records (or an IngestError) out. What cannot be taken record by record (an
id of the wrong length, an end before the start, a span too large to store) is counted and
named for the response's `partial_success`; the rest is kept.
"""

from __future__ import annotations

import base64
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import (
    ExportLogsServiceRequest,
    ExportLogsServiceResponse,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from relay_mock.protocol.containers import TelemetryRecord
from relay_mock.protocol.ingest_errors import IngestError, PayloadTooLarge, UndecodableBody

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
CONTENT_TYPES = (PROTOBUF, JSON)
SIGNALS = ("traces", "logs")

# Protobuf decoding materialises every element of a body at once (about 20 bytes of memory per
# byte for a body of empty array values), so OTLP bodies are held to the budget relay-mock
# parses of one envelope's JSON payloads (store/index.py JSON_INDEX_BUDGET): 8 MiB decoded.
MAX_DECODED_BYTES = 8 * 1024 * 1024
# One span or log record as stored JSON (Relay's 1 MB per span; containers.py MAX_RECORD_BYTES).
MAX_RECORD_BYTES = 1024 * 1024
# A record's JSON is at most this many times its protobuf size (an empty array value: 2 bytes
# of protobuf, "null," in JSON; a control character: 1 byte, "\u0001"; plus the attributes
# relay-mock adds): records below MAX_RECORD_BYTES / JSON_GROWTH need no measuring.
JSON_GROWTH = 8
# Records per container item (containers.py MAX_RECORDS).
RECORDS_PER_ITEM = 1000
MAX_MESSAGES = 20  # rejection reasons named in `error_message`; the count covers all of them

SPAN_KINDS = {0: None, 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
STATUS_UNSET, STATUS_OK, STATUS_ERROR = 0, 1, 2
FLAG_HAS_IS_REMOTE, FLAG_IS_REMOTE = 0x100, 0x200

SPAN_CONTENT_TYPE = "application/vnd.sentry.items.span.v2+json"
LOG_CONTENT_TYPE = "application/vnd.sentry.items.log+json"


_OTLP = {"type": "string", "value": "otlp"}  # `sentry.ingest`: the marker the UI badges


class UnsupportedMediaType(IngestError):
    status = 415
    reason = "unsupported_media_type"


@dataclass(slots=True)
class Converted:
    """What an OTLP request became: container records and what could not be taken."""

    signal: str  # traces | logs
    content_type: str  # application/x-protobuf | application/json
    records: list[dict[str, Any]] = field(default_factory=list)  # v2 spans or Sentry log records
    accepted: int = 0
    rejected: int = 0
    reasons: list[str] = field(default_factory=list)

    def reject(self, reason: str) -> None:
        self.rejected += 1
        if len(self.reasons) < MAX_MESSAGES:
            self.reasons.append(reason)

    @property
    def error_message(self) -> str:
        more = self.rejected - len(self.reasons)
        return "; ".join(self.reasons) + (f"; and {more} more" if more > 0 else "")


def media_type(header: str | None) -> str:
    """The request's content type, or UnsupportedMediaType naming the ones OTLP/HTTP takes."""
    value = (header or "").split(";", 1)[0].strip().lower()
    if value not in CONTENT_TYPES:
        raise UnsupportedMediaType(
            f"unsupported content type {value[:80]!r}" if value else "no content type",
            f"OTLP/HTTP takes {' or '.join(CONTENT_TYPES)}",
        )
    return value


def convert(signal: str, content_type: str, body: bytes, *, received_at: float) -> Converted:
    """Decode an OTLP request body (already decompressed) and convert what it holds."""
    if len(body) > MAX_DECODED_BYTES:
        raise PayloadTooLarge(
            "OTLP request exceeds the decoded size limit",
            f"more than {MAX_DECODED_BYTES} bytes after decoding",
            reason="too_large_decompressed",
        )
    request_type = ExportTraceServiceRequest if signal == "traces" else ExportLogsServiceRequest
    message = _decode(request_type, content_type, body)
    converted = Converted(signal, content_type)
    if isinstance(message, ExportTraceServiceRequest):
        _convert_spans(message, converted)
    else:
        assert isinstance(message, ExportLogsServiceRequest)
        _convert_logs(message, converted, received_at)
    return converted


def response_body(converted: Converted) -> bytes:
    """The Export…ServiceResponse, in the request's encoding."""
    response: Message
    if converted.signal == "traces":
        response = ExportTraceServiceResponse()
        if converted.rejected:
            response.partial_success.rejected_spans = converted.rejected
            response.partial_success.error_message = converted.error_message
    else:
        response = ExportLogsServiceResponse()
        if converted.rejected:
            response.partial_success.rejected_log_records = converted.rejected
            response.partial_success.error_message = converted.error_message
    if converted.content_type == PROTOBUF:
        return response.SerializeToString()
    return orjson.dumps(json_format.MessageToDict(response))


def container_items(converted: Converted) -> list[tuple[dict[str, Any], bytes, list[TelemetryRecord]]]:
    """The records as envelope items (header, payload, the store's rows of them): spans one item
    per trace, logs in items of at most RECORDS_PER_ITEM; each item's records in arrival order.

    The rows are what containers.parse_container reads back out of such an item (the fuzz
    target checks they agree); built here, the records are not parsed and checked a second time."""
    groups: list[list[dict[str, Any]]] = []
    if converted.signal == "traces":
        by_trace: dict[str, list[dict[str, Any]]] = {}
        for span in converted.records:
            by_trace.setdefault(span["trace_id"], []).append(span)
        for spans in by_trace.values():
            groups += _chunks(spans)
        item_type, content_type = "span", SPAN_CONTENT_TYPE
    else:
        groups = _chunks(converted.records)
        item_type, content_type = "log", LOG_CONTENT_TYPE
    row = _span_row if converted.signal == "traces" else _log_row
    return [
        (
            {"type": item_type, "item_count": len(group), "content_type": content_type},
            orjson.dumps({"version": 2, "items": group}),
            [row(n, record) for n, record in enumerate(group)],
        )
        for group in groups
    ]


def _span_row(n: int, span: dict[str, Any]) -> TelemetryRecord:
    start, end = span["start_timestamp"], span["end_timestamp"]
    return TelemetryRecord(
        "span", n, start, span["trace_id"], span["span_id"], name=span["name"],
        value=round((end - start) * 1000, 3), unit="millisecond",
    )  # fmt: skip


def _log_row(n: int, log: dict[str, Any]) -> TelemetryRecord:
    return TelemetryRecord(
        "log", n, log["timestamp"], log["trace_id"], log.get("span_id"), level=log["level"], body=log["body"]
    )


def _chunks(records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [records[i : i + RECORDS_PER_ITEM] for i in range(0, len(records), RECORDS_PER_ITEM)]


# -- decoding ---------------------------------------------------------------------------------

_ID_FIELDS = {"traceId", "trace_id", "spanId", "span_id", "parentSpanId", "parent_span_id"}
_CHILDREN = (
    ("resourceSpans", "resource_spans", "resourceLogs", "resource_logs"),
    ("scopeSpans", "scope_spans", "scopeLogs", "scope_logs"),
    ("spans", "logRecords", "log_records"),
)


def _decode(request_type: type[Message], content_type: str, body: bytes) -> Message:
    name = request_type.DESCRIPTOR.name
    if content_type == PROTOBUF:
        try:
            return request_type.FromString(body)
        except (DecodeError, RecursionError) as exc:
            raise UndecodableBody(f"body is not a protobuf {name}", str(exc) or type(exc).__name__) from None
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise UndecodableBody("body is not valid JSON", str(exc)) from None
    if not isinstance(document, dict):
        raise UndecodableBody(f"body is not an OTLP/JSON {name}", f"expected an object, got {type(document).__name__}")
    _hex_ids_to_base64(document)
    message = request_type()
    try:
        json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except (json_format.ParseError, ValueError, TypeError, AttributeError, RecursionError) as exc:
        raise UndecodableBody(f"body is not an OTLP/JSON {name}", str(exc)[:500] or type(exc).__name__) from None
    return message


def _hex_ids_to_base64(document: dict[str, Any]) -> None:
    """OTLP/JSON writes ids as hex (the spec's one departure from protobuf's JSON mapping, which
    json_format implements with base64): rewrite them before parsing, in spans, links and logs."""
    level: list[Any] = [document]
    for names in _CHILDREN:
        level = [child for parent in level if isinstance(parent, dict) for child in _lists(parent, names)]
    for record in level:
        if not isinstance(record, dict):
            continue
        _rewrite_ids(record)
        links = record.get("links")
        if isinstance(links, list):
            for link in links:
                if isinstance(link, dict):
                    _rewrite_ids(link)


def _lists(parent: dict[str, Any], names: Iterable[str]) -> list[Any]:
    found: list[Any] = []
    for name in names:
        value = parent.get(name)
        if isinstance(value, list):
            found += value
    return found


def _rewrite_ids(record: dict[str, Any]) -> None:
    for key in _ID_FIELDS & record.keys():
        value = record[key]
        if not isinstance(value, str):
            continue  # json_format names the wrong type
        try:
            raw = bytes.fromhex(value)
        except ValueError:
            raise UndecodableBody(
                f"{key} is not hex", f"OTLP/JSON ids are lowercase hex strings, got {value[:80]!r}"
            ) from None
        record[key] = base64.b64encode(raw).decode()


# -- values -----------------------------------------------------------------------------------


def _plain(value: AnyValue) -> Any:
    """An AnyValue as a plain JSON value (arrays and key-value lists nest)."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [_plain(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: _plain(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return base64.b64encode(value.bytes_value).decode()
    if kind == "double_value":
        number = value.double_value
        return number if math.isfinite(number) else str(number)
    return getattr(value, kind)


def _typed(value: AnyValue) -> dict[str, Any] | None:
    """An AnyValue as a v2 attribute ({"type", "value"}); key-value lists and bytes as strings."""
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return {"type": "string", "value": value.string_value}
    if kind == "bool_value":
        return {"type": "boolean", "value": value.bool_value}
    if kind == "int_value":
        return {"type": "integer", "value": value.int_value}
    if kind == "double_value":
        number = value.double_value
        if not math.isfinite(number):  # JSON has no NaN or infinity
            return {"type": "string", "value": str(number)}
        return {"type": "double", "value": number}
    if kind == "array_value":
        return {"type": "array", "value": [_plain(v) for v in value.array_value.values]}
    if kind == "kvlist_value":
        return {"type": "string", "value": orjson.dumps(_plain(value)).decode()}
    if kind == "bytes_value":
        return {"type": "string", "value": base64.b64encode(value.bytes_value).decode()}
    return None


def _attributes(pairs: Iterable[KeyValue]) -> dict[str, dict[str, Any]]:
    # Once per attribute of every span: strings (most attributes) take the short way.
    typed = {}
    for pair in pairs:
        value = pair.value
        if value.WhichOneof("value") == "string_value":
            typed[pair.key] = {"type": "string", "value": value.string_value}
            continue
        attribute = _typed(value)
        if attribute is not None:
            typed[pair.key] = attribute
    return typed


def _string(attributes: dict[str, dict[str, Any]], *names: str) -> str | None:
    for name in names:
        attribute = attributes.get(name)
        if attribute is not None and attribute["type"] == "string" and attribute["value"]:
            return str(attribute["value"])
    return None


def _integer(attributes: dict[str, dict[str, Any]], name: str) -> int | None:
    attribute = attributes.get(name)
    if attribute is None:
        return None
    value = attribute["value"]
    if attribute["type"] == "integer":
        return int(value)
    if attribute["type"] == "string" and value.isascii() and value.isdigit() and len(value) < 6:
        return int(value)
    return None


@dataclass(slots=True)
class _Origin:
    """What a span or log inherits from its resource and scope, as attributes."""

    attributes: dict[str, dict[str, Any]]


def _origin(resource: Resource, scope: InstrumentationScope) -> _Origin:
    resource_attributes = _attributes(resource.attributes)
    inherited = {f"resource.{key}": value for key, value in resource_attributes.items()}
    service = _string(resource_attributes, "service.name")
    environment = _string(resource_attributes, "deployment.environment.name", "deployment.environment")
    release = _string(resource_attributes, "service.version")
    for key, text in (
        ("service.name", service),
        ("sentry.environment", environment),
        ("sentry.release", release),
        ("otel.scope.name", scope.name or None),
        ("otel.scope.version", scope.version or None),
    ):
        if text is not None:
            inherited[key] = {"type": "string", "value": text}
    return _Origin(inherited)


# -- spans ------------------------------------------------------------------------------------


class _Rejected(Exception):
    pass


def _checked(message: Message, build: Any) -> dict[str, Any]:
    """The record `build()` makes of `message`, unless it is too large to store."""
    size = message.ByteSize()
    if size > MAX_RECORD_BYTES:
        raise _Rejected(f"more than {MAX_RECORD_BYTES} bytes")
    record: dict[str, Any] = build()
    if size * JSON_GROWTH > MAX_RECORD_BYTES:
        stored = len(orjson.dumps(record))
        if stored > MAX_RECORD_BYTES:
            raise _Rejected(f"{stored} bytes as stored, more than {MAX_RECORD_BYTES}")
    return record


class _LocalIds:
    """The span ids of one resource's spans in the request, collected when first asked for."""

    def __init__(self, resource_spans: Any) -> None:
        self.resource_spans = resource_spans
        self.ids: set[bytes] | None = None

    def __contains__(self, span_id: object) -> bool:
        if self.ids is None:
            self.ids = {span.span_id for scope in self.resource_spans.scope_spans for span in scope.spans}
        return span_id in self.ids


def _convert_spans(request: ExportTraceServiceRequest, converted: Converted) -> None:
    records = converted.records
    for r, resource_spans in enumerate(request.resource_spans):
        # A SERVER/CONSUMER span is its service's entry point when its parent is not among the
        # spans of the same resource in this request (and the flags say nothing of the parent).
        local_ids = _LocalIds(resource_spans)
        for s, scope_spans in enumerate(resource_spans.scope_spans):
            origin = _origin(resource_spans.resource, scope_spans.scope)
            for n, span in enumerate(scope_spans.spans):
                try:
                    record = _checked(span, lambda: _span(span, origin, local_ids))  # noqa: B023 (called at once)
                except _Rejected as exc:
                    converted.reject(f"resource_spans[{r}].scope_spans[{s}].spans[{n}]: {exc}")
                    continue
                records.append(record)
    converted.accepted = len(records)
    _link_segments(records)


_ZEROS = {16: bytes(16), 8: bytes(8)}


def _hex_id(raw: bytes, name: str, length: int, *, required: bool) -> str | None:
    if len(raw) != length:
        if not raw and not required:
            return None
        raise _Rejected(f"{name} has {len(raw)} bytes, expected {length}")
    if raw == _ZEROS[length]:
        raise _Rejected(f"{name} is all zeros (an invalid id)")
    return raw.hex()


def _seconds(nanos: int) -> float:
    return nanos / 1e9


def _span(span: Span, origin: _Origin, local_ids: _LocalIds) -> dict[str, Any]:
    raw_parent = span.parent_span_id
    trace_id = _hex_id(span.trace_id, "trace_id", 16, required=True)
    span_id = _hex_id(span.span_id, "span_id", 8, required=True)
    parent_span_id = _hex_id(raw_parent, "parent_span_id", 8, required=False)
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    if not start:
        raise _Rejected("start_time_unix_nano is missing")
    if end < start:
        raise _Rejected("end_time_unix_nano is before start_time_unix_nano")
    kind = SPAN_KINDS.get(span.kind)
    own = _attributes(span.attributes)
    status = span.status
    http_status = _integer(own, "http.response.status_code") or _integer(own, "http.status_code")
    detail = _status_detail(status.code, http_status, _integer(own, "rpc.grpc.status_code"))
    # The resource's and scope's first, then the span's own, then what relay-mock derived.
    attributes = {
        **origin.attributes,
        **own,
        "sentry.op": {"type": "string", "value": _op(own, kind)},
        "sentry.status.detail": {"type": "string", "value": detail},
        "sentry.ingest": _OTLP,
    }
    if kind is not None:
        attributes["otel.kind"] = {"type": "string", "value": kind}
    if status.message:
        attributes["otel.status_message"] = {"type": "string", "value": status.message}
    if http_status is not None:
        attributes["http.response.status_code"] = {"type": "integer", "value": http_status}
    flags = span.flags
    if flags & FLAG_HAS_IS_REMOTE:
        segment = parent_span_id is None or bool(flags & FLAG_IS_REMOTE)
    else:
        segment = parent_span_id is None or (kind in ("server", "consumer") and raw_parent not in local_ids)
    record: dict[str, Any] = {
        "trace_id": trace_id,
        "span_id": span_id,
        "name": span.name,
        "status": "ok" if detail == "ok" else "error",
        "is_segment": segment,
        "start_timestamp": start / 1e9,
        "end_timestamp": end / 1e9,
        "attributes": attributes,
    }
    if parent_span_id is not None:
        record["parent_span_id"] = parent_span_id
    description = _description(own)
    if description is not None:
        record["description"] = description
    if span.events:
        record["events"] = [
            {
                "name": event.name,
                "timestamp": _seconds(event.time_unix_nano),
                "attributes": _attributes(event.attributes),
            }
            for event in span.events
        ]
    if span.links:
        record["links"] = [_link(link) for link in span.links]
    return record


def _link(link: Span.Link) -> dict[str, Any]:
    found: dict[str, Any] = {
        "trace_id": _hex_id(link.trace_id, "links[].trace_id", 16, required=True),
        "span_id": _hex_id(link.span_id, "links[].span_id", 8, required=True),
        "attributes": _attributes(link.attributes),
    }
    if link.flags & FLAG_HAS_IS_REMOTE:
        found["is_remote"] = bool(link.flags & FLAG_IS_REMOTE)
    return found


def _link_segments(spans: list[dict[str, Any]]) -> None:
    """`sentry.segment.id` / `.name` for each span whose segment (its nearest segment ancestor)
    is in the request, as Relay sets them (relay#5748)."""
    by_id = {span["span_id"]: span for span in spans}
    for span in spans:
        node, hops = span, 0
        while not node["is_segment"] and hops < 64:
            parent = by_id.get(node.get("parent_span_id"))
            if parent is None:
                break
            node, hops = parent, hops + 1
        if node["is_segment"]:
            span["attributes"].setdefault("sentry.segment.id", {"type": "string", "value": node["span_id"]})
            span["attributes"].setdefault("sentry.segment.name", {"type": "string", "value": node["name"]})


def _op(attributes: dict[str, dict[str, Any]], kind: str | None) -> str:
    """Relay's derivation of a span's op from its attributes and kind."""
    explicit = _string(attributes, "sentry.op")
    if explicit:
        return explicit
    if _string(attributes, "http.request.method", "http.method"):
        if kind == "server":
            return "http.server"
        if kind == "client":
            return "http.client"
        return "http"
    if _string(attributes, "db.system.name", "db.system"):
        return "db"
    if _string(attributes, "messaging.system"):
        return "message"
    if _string(attributes, "rpc.service"):
        return "rpc"
    if any(key.startswith("gen_ai.") for key in attributes):
        return "gen_ai"
    trigger = _string(attributes, "faas.trigger")
    return trigger or "default"


def _status_detail(code: int, http_status: int | None, grpc_status: int | None) -> str:
    """Sentry's span status: from the HTTP status when there is one (as Sentry's own HTTP spans
    have it), else from the OTel status (and the gRPC status of an error)."""
    if http_status is not None:
        return _http_status(http_status)
    if code != STATUS_ERROR:
        return "ok"
    if grpc_status is not None and 0 <= grpc_status < len(_GRPC_STATUS):
        return _GRPC_STATUS[grpc_status]
    return "unknown_error"


_HTTP_STATUS = {
    400: "invalid_argument",
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    409: "already_exists",
    429: "resource_exhausted",
    499: "cancelled",
    500: "internal_error",
    501: "unimplemented",
    503: "unavailable",
    504: "deadline_exceeded",
}
_GRPC_STATUS = (
    "ok",
    "cancelled",
    "unknown_error",
    "invalid_argument",
    "deadline_exceeded",
    "not_found",
    "already_exists",
    "permission_denied",
    "resource_exhausted",
    "failed_precondition",
    "aborted",
    "out_of_range",
    "unimplemented",
    "internal_error",
    "unavailable",
    "data_loss",
    "unauthenticated",
)


def _http_status(status: int) -> str:
    if status in _HTTP_STATUS:
        return _HTTP_STATUS[status]
    if 100 <= status < 400:
        return "ok"
    if 400 <= status < 500:
        return "invalid_argument"
    if 500 <= status < 600:
        return "internal_error"
    return "unknown_error"


def _description(attributes: dict[str, dict[str, Any]]) -> str | None:
    """`"<METHOD> <url>"` for an HTTP span, as Sentry's own HTTP spans describe themselves."""
    method = _string(attributes, "http.request.method", "http.method")
    if method is None:
        return None
    url = _string(attributes, "url.full", "http.url")
    if url is None:
        host = _string(attributes, "server.address", "net.peer.name", "http.host")
        path = _string(attributes, "url.path", "http.target", "http.route") or ""
        if host is not None:
            port = _integer(attributes, "server.port") or _integer(attributes, "net.peer.port")
            scheme = _string(attributes, "url.scheme", "http.scheme") or "http"
            url = f"{scheme}://{host}{f':{port}' if port else ''}{path}"
        else:
            url = path
    return f"{method} {url}".rstrip()


# -- logs -------------------------------------------------------------------------------------

# OTel severity numbers 1-24 in six bands of four (the log data model).
_LEVELS = ("trace", "debug", "info", "warn", "error", "fatal")
_LEVEL_NAMES = {"warning": "warn", "critical": "fatal", "err": "error", "information": "info"}


def _level(number: int, text: str) -> str:
    if 1 <= number <= 24:
        return _LEVELS[(number - 1) // 4]
    named = text.strip().lower()
    named = _LEVEL_NAMES.get(named, named)
    return named if named in _LEVELS else "info"


def _convert_logs(request: ExportLogsServiceRequest, converted: Converted, received_at: float) -> None:
    for r, resource_logs in enumerate(request.resource_logs):
        for s, scope_logs in enumerate(resource_logs.scope_logs):
            origin = _origin(resource_logs.resource, scope_logs.scope)
            for n, log in enumerate(scope_logs.log_records):
                where = f"resource_logs[{r}].scope_logs[{s}].log_records[{n}]"
                try:
                    record = _checked(log, lambda: _log(log, origin, received_at))  # noqa: B023 (called at once)
                except _Rejected as exc:
                    converted.reject(f"{where}: {exc}")
                    continue
                converted.records.append(record)
                converted.accepted += 1


def _log(log: LogRecord, origin: _Origin, received_at: float) -> dict[str, Any]:
    # A log written outside any span may carry all-zero ids: the log data model's "no context".
    raw_trace, raw_span = log.trace_id, log.span_id
    trace_id = _hex_id(raw_trace, "trace_id", 16, required=False) if raw_trace != _ZEROS[16] else None
    span_id = _hex_id(raw_span, "span_id", 8, required=False) if raw_span != _ZEROS[8] else None
    attributes = _attributes(log.attributes)
    attributes = {**origin.attributes, **attributes, "sentry.ingest": _OTLP}
    if trace_id is None:
        # Sentry's log records need a trace; a log written outside any span gets a trace of its
        # own (as Relay does), and says so.
        trace_id = uuid.uuid4().hex
        attributes["sentry.trace_id.generated"] = {"type": "boolean", "value": True}
    if log.severity_text:
        attributes["otel.severity_text"] = {"type": "string", "value": log.severity_text}
    if log.event_name:
        attributes["otel.event_name"] = {"type": "string", "value": log.event_name}
    body = _plain(log.body) if log.HasField("body") else ""
    nanos = log.time_unix_nano or log.observed_time_unix_nano
    record: dict[str, Any] = {
        "timestamp": _seconds(nanos) if nanos else received_at,
        "trace_id": trace_id,
        "level": _level(log.severity_number, log.severity_text),
        "body": body if isinstance(body, str) else orjson.dumps(body).decode(),
        "attributes": attributes,
    }
    if log.severity_number:
        record["severity_number"] = log.severity_number
    if span_id is not None:
        record["span_id"] = span_id
    return record
