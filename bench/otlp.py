"""The benchmark's transaction as an OTLP/HTTP protobuf request: the same spans (the root span
and its children, with their ids, times, descriptions and data), as an OpenTelemetry service
would export them, so OTLP ingest and envelope ingest are timed on the same work; and a batch
of such traces in one request, as the SDK's BatchSpanProcessor exports them under load."""

from __future__ import annotations

import secrets
from typing import Any

import orjson
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from relay_mock.protocol.envelope import parse_envelope
from relay_mock.protocol.timestamps import timestamp

SERVER, CLIENT, INTERNAL = Span.SPAN_KIND_SERVER, Span.SPAN_KIND_CLIENT, Span.SPAN_KIND_INTERNAL


def transaction_as_otlp(envelope: bytes) -> tuple[bytes, int]:
    """The OTLP protobuf body holding the envelope's transaction's spans, and how many it holds."""
    [item] = [item for item in parse_envelope(envelope).items if item.type == "transaction"]
    event: dict[str, Any] = orjson.loads(item.payload)
    trace = event["contexts"]["trace"]
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add()
    _attributes(resource_spans.resource.attributes, {"service.name": "api", "service.version": event.get("release")})
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "opentelemetry.instrumentation.fastapi"
    root = {**trace, "start_timestamp": event["start_timestamp"], "timestamp": event["timestamp"]}
    root["description"] = event["transaction"]
    root["data"] = {**trace.get("data", {}), "http.request.method": "POST", "url.path": event["transaction"]}
    for span in [root, *event["spans"]]:
        _span(scope_spans.spans.add(), span, trace["trace_id"], SERVER if span is root else _kind(span))
    return request.SerializeToString(), len(scope_spans.spans)


# The OpenTelemetry SDK's BatchSpanProcessor exports at most this many spans per request.
MAX_EXPORT_BATCH_SIZE = 512


def batch_of_traces(body: bytes) -> tuple[bytes, int, int]:
    """As many copies of the request's trace as fit in one SDK batch, each copy with trace and
    span ids of its own: (the body, traces, spans)."""
    one = ExportTraceServiceRequest.FromString(body)
    spans = one.resource_spans[0].scope_spans[0].spans
    traces = MAX_EXPORT_BATCH_SIZE // len(spans)
    batch = ExportTraceServiceRequest()
    resource_spans = batch.resource_spans.add()
    resource_spans.resource.CopyFrom(one.resource_spans[0].resource)
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.CopyFrom(one.resource_spans[0].scope_spans[0].scope)
    for _ in range(traces):
        trace_id = secrets.token_bytes(16)
        new_ids = {span.span_id: secrets.token_bytes(8) for span in spans}
        for span in spans:
            copy = scope_spans.spans.add()
            copy.CopyFrom(span)
            copy.trace_id, copy.span_id = trace_id, new_ids[span.span_id]
            copy.parent_span_id = new_ids.get(span.parent_span_id, span.parent_span_id)
    return batch.SerializeToString(), traces, len(scope_spans.spans)


def _kind(span: dict[str, Any]) -> Span.SpanKind.ValueType:
    return CLIENT if str(span.get("op", "")).startswith(("http.client", "db")) else INTERNAL


def _span(out: Span, span: dict[str, Any], trace_id: str, kind: Span.SpanKind.ValueType) -> None:
    out.trace_id = bytes.fromhex(trace_id)
    out.span_id = bytes.fromhex(span["span_id"])
    if span.get("parent_span_id"):
        out.parent_span_id = bytes.fromhex(span["parent_span_id"])
    out.name = span.get("description") or span.get("op") or "span"
    out.kind = kind
    start, end = timestamp(span["start_timestamp"]), timestamp(span["timestamp"])
    assert start is not None and end is not None
    out.start_time_unix_nano, out.end_time_unix_nano = int(start * 1e9), int(end * 1e9)
    out.status.code = Status.STATUS_CODE_OK if span.get("status", "ok") == "ok" else Status.STATUS_CODE_ERROR
    _attributes(out.attributes, span.get("data") or {})


def _attributes(out: Any, values: dict[str, Any]) -> None:
    for key, value in values.items():
        if value is None:
            continue
        pair: KeyValue = out.add()
        pair.key = key
        if isinstance(value, bool):
            pair.value.bool_value = value
        elif isinstance(value, int):
            pair.value.int_value = value
        elif isinstance(value, float):
            pair.value.double_value = value
        else:
            pair.value.string_value = str(value)
