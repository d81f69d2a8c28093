"""Seeds for the OTLP fuzz target (fuzz/fuzz_otlp.py): requests serialised by the real OpenTelemetry
SDK, OTLP/JSON by hand, and hostile bodies (deep nesting, huge attribute arrays, ids of the wrong
length, invalid UTF-8, truncated protobuf). fuzz/make_corpus.py writes them as `otlp-*`."""

from __future__ import annotations

import gzip
import time
from typing import Any

import orjson
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.logs.v1.logs_pb2 import SeverityNumber as SeverityNumberValue
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from fuzz.fuzz_otlp import selector

RESOURCE = Resource.create({"service.name": "catalog", "deployment.environment.name": "fuzz"})
HUGE_ARRAY_BYTES = 7 * 1024 * 1024  # under the 8 MiB decoded limit, so it reaches the converter


def sdk_traces() -> bytes:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=RESOURCE)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("fuzz", "1.0")
    with tracer.start_as_current_span(
        "GET /stock/{sku}", kind=SpanKind.SERVER, attributes={"http.request.method": "GET", "url.path": "/stock/1"}
    ) as root:
        root.add_event("cache miss", {"key": "sku-1", "sizes": [1, 2, 3]})
        with tracer.start_as_current_span("SELECT", attributes={"db.system.name": "postgresql", "ratio": 0.5}):
            pass
        with tracer.start_as_current_span(
            "GET", kind=SpanKind.CLIENT, links=[Link(root.get_span_context(), {"why": "retry"})]
        ) as call:
            call.set_attributes({"http.request.method": "GET", "url.full": "http://pricing/p", "ok": False})
            call.set_status(Status(StatusCode.ERROR, "refused"))
    provider.shutdown()
    return encode_spans(exporter.get_finished_spans()).SerializeToString()


def sdk_logs() -> bytes:
    exporter = InMemoryLogRecordExporter()  # type: ignore[no-untyped-call]
    provider = LoggerProvider(resource=RESOURCE)
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("fuzz", "1.0")
    with TracerProvider(resource=RESOURCE).get_tracer("fuzz").start_as_current_span("lookup"):
        logger.emit(severity_number=SeverityNumber.WARN, body="stock is low", attributes={"sku": "sku-1"})
    logger.emit(severity_number=SeverityNumber.INFO, body={"structured": ["body", 1]})
    provider.shutdown()
    return encode_logs(exporter.get_finished_logs()).SerializeToString()


def _json_span(**fields: Any) -> dict[str, Any]:
    now = time.time_ns()
    return {
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "name": "charge",
        "kind": 3,
        "startTimeUnixNano": str(now - 1000),
        "endTimeUnixNano": str(now),
        "attributes": [{"key": "http.request.method", "value": {"stringValue": "POST"}}],
        **fields,
    }


# The proto field names, which receivers must take as well as lowerCamelCase.
SNAKE_CASE_SPAN = {
    "trace_id": "5b8efff798038103d269b633813fc60c",
    "span_id": "aaa19b7ec3c1b174",
    "name": "snake",
    "start_time_unix_nano": "1",
    "end_time_unix_nano": "2",
}
STRUCTURED_BODY = {"kvlistValue": {"values": [{"key": "a", "value": {"intValue": "1"}}]}}
JSON_LOGS = {
    "resourceLogs": [
        {"scopeLogs": [{"logRecords": [{"severityNumber": 9, "body": STRUCTURED_BODY, "spanId": "eee19b7ec3c1b174"}]}]}
    ]
}


def _json_traces(*spans: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "payments"}}]},
                    "scopeSpans": [{"scope": {"name": "payments"}, "spans": list(spans)}],
                }
            ]
        }
    )


def _deep_kvlist(depth: int) -> bytes:
    """A span attribute whose value nests `depth` key-value lists (protobuf decoders cap depth)."""
    value = AnyValue(string_value="bottom")
    for _ in range(depth):
        nested = AnyValue()
        pair = nested.kvlist_value.values.add()
        pair.key = "k"
        pair.value.CopyFrom(value)
        value = nested
    request = ExportTraceServiceRequest()
    span = _proto_span(request)
    attribute = span.attributes.add()
    attribute.key = "deep"
    attribute.value.CopyFrom(value)
    return request.SerializeToString()


def _proto_span(request: ExportTraceServiceRequest) -> Any:
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = bytes(range(1, 17)), bytes(range(1, 9)), "s"
    span.start_time_unix_nano, span.end_time_unix_nano = 1_700_000_000_000_000_000, 1_700_000_000_100_000_000
    return span


def _huge_array() -> bytes:
    """One span with an attribute array of millions of empty values, about 7 MiB of protobuf."""
    request = ExportTraceServiceRequest()
    _proto_span(request)
    body = request.SerializeToString()
    elements = b"\x0a\x00" * (HUGE_ARRAY_BYTES // 2)  # ArrayValue.values: empty AnyValues
    array = b"\x2a" + _varint(len(elements)) + elements  # AnyValue.array_value
    pair = b"\x0a\x01a" + b"\x12" + _varint(len(array)) + array  # KeyValue{key, value}
    span_attribute = b"\x4a" + _varint(len(pair)) + pair  # Span.attributes
    # Append the attribute to the span by rebuilding the nesting with the new span bytes.
    span = request.resource_spans[0].scope_spans[0].spans[0].SerializeToString() + span_attribute
    scope = b"\x12" + _varint(len(span)) + span
    resource = b"\x12" + _varint(len(scope)) + scope
    del body
    return b"\x0a" + _varint(len(resource)) + resource


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _wrong_ids() -> bytes:
    request = ExportTraceServiceRequest()
    for trace_len, span_len, parent_len in ((16, 3, 0), (17, 8, 8), (16, 8, 5), (0, 8, 0)):
        span = _proto_span(request)
        span.trace_id, span.span_id = b"\x01" * trace_len, b"\x02" * span_len
        span.parent_span_id = b"\x03" * parent_len
    zero = _proto_span(request)
    zero.trace_id = bytes(16)
    backwards = _proto_span(request)
    backwards.end_time_unix_nano = 1
    link = _proto_span(request).links.add()
    link.trace_id, link.span_id = b"\x04" * 9, b"\x05" * 8
    return request.SerializeToString()


def _wrong_log_ids() -> bytes:
    request = ExportLogsServiceRequest()
    logs = request.resource_logs.add().scope_logs.add()
    for trace_len, span_len in ((5, 0), (16, 9), (16, 8), (0, 0)):
        log = logs.log_records.add()
        log.trace_id, log.span_id = b"\x01" * trace_len, b"\x02" * span_len
        log.severity_number = SeverityNumberValue.ValueType(30)  # past the 24 the data model defines
        log.body.double_value = float("nan")
    return request.SerializeToString()


def seeds() -> dict[str, bytes]:
    """Corpus file name → selector byte + body."""
    traces, logs = sdk_traces(), sdk_logs()
    json = "application/json"

    def seed(body: bytes, encoding: str = "identity", *, compress: bool = False, **kinds: Any) -> bytes:
        return bytes([selector(encoding, compress=compress, **kinds)]) + body

    deep_json = b'{"resourceSpans":' + b"[" * 2000 + b"]" * 2000 + b"}"
    # 900 levels of JSON: within orjson's limit, past what a recursive converter can walk.
    nested_value = b'{"arrayValue":{"values":[' * 300 + b'{"stringValue":"bottom"}' + b"]}}" * 300
    return {
        "otlp-sdk-traces.identity": seed(traces),
        "otlp-sdk-traces.gzip": seed(traces, "gzip", compress=True),
        "otlp-sdk-traces.zstd": seed(traces, "zstd", compress=True),
        "otlp-sdk-traces.query-auth": seed(traces, query_auth=True),
        "otlp-sdk-logs.identity": seed(logs, signal="logs"),
        "otlp-sdk-logs.gzip": seed(logs, "gzip", compress=True, signal="logs"),
        "otlp-json-traces": seed(_json_traces(_json_span(), SNAKE_CASE_SPAN), content_type=json),
        "otlp-json-logs": seed(orjson.dumps(JSON_LOGS), signal="logs", content_type=json),
        "otlp-json-empty": seed(b"{}", content_type=json),
        "otlp-content-type-text": seed(traces, content_type="text/plain"),
        "otlp-content-type-missing": seed(traces, content_type=""),
        "otlp-hostile-truncated-protobuf": seed(traces[: len(traces) // 2]),
        "otlp-hostile-deep-kvlist": seed(_deep_kvlist(200)),
        "otlp-hostile-deep-json-brackets": seed(deep_json, content_type=json),
        "otlp-hostile-deep-json-values": seed(
            _json_traces(_json_span(attributes=[{"key": "deep", "value": "@"}])).replace(b'"@"', nested_value),
            content_type=json,
        ),
        "otlp-hostile-huge-array.gzip": seed(gzip.compress(_huge_array(), mtime=0), "gzip"),
        "otlp-hostile-wrong-id-lengths": seed(_wrong_ids()),
        "otlp-hostile-wrong-log-ids": seed(_wrong_log_ids(), signal="logs"),
        "otlp-hostile-invalid-utf8-protobuf": seed(traces.replace(b"GET /stock/{sku}", b"GET /stock/\xff\xfe\xfd\xfc")),
        "otlp-hostile-invalid-utf8-json": seed(
            _json_traces(_json_span()).replace(b"charge", b"ch\xffrge"), content_type=json
        ),
        "otlp-hostile-json-id-not-hex": seed(_json_traces(_json_span(spanId="not-hex-at-all!!")), content_type=json),
        "otlp-hostile-json-wrong-types": seed(
            _json_traces(_json_span(kind="SERVER", startTimeUnixNano=[], attributes={"a": 1})), content_type=json
        ),
    }
