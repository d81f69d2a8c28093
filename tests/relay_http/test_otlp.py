"""OTLP/HTTP ingest over real HTTP: the real OpenTelemetry SDK's exporters and hand-made OTLP/JSON
bodies against a relay-mock process. Spans reach the trace view (op, status, resource, the OTLP
mark), logs the Logs page; what cannot be taken is counted in `partial_success`; every refusal
has Relay's JSON body and lands in the refusal log; a kill -9 after the 200 loses nothing."""

from __future__ import annotations

import contextlib
import gzip
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import orjson
import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

from tests.relay_http.inspector import Inspector
from tests.relay_http.test_mcp import PROTOCOL, McpClient
from tests.relay_http.wire import API, DOWNSTREAM, new_id
from tests.support.polling import poll
from tests.support.relay_server import REPO, RelayMock

MAX_COMPRESSED = 512 * 1024
AUTH = {"x-sentry-auth": f"sentry sentry_key={API.key}"}  # the form Sentry's OTLP docs show
PROTOBUF = {**AUTH, "content-type": "application/x-protobuf"}
JSON = {**AUTH, "content-type": "application/json"}


@pytest.fixture(scope="module")
def relay_env() -> dict[str, str]:
    return {"RELAY_MAX_COMPRESSED_BYTES": str(MAX_COMPRESSED)}


@pytest.fixture(autouse=True)
def fresh(inspector: Inspector) -> None:
    inspector.clear()


def otlp_url(relay_url: str, signal: str = "traces", *, project: int = API.id, slash: bool = True) -> str:
    return f"{relay_url}/api/{project}/integration/otlp/v1/{signal}" + ("/" if slash else "")


@pytest.fixture
def tracer_provider(relay: RelayMock) -> Iterator[TracerProvider]:
    """The OpenTelemetry SDK exporting every span at its end over OTLP/HTTP protobuf."""
    provider = TracerProvider(
        resource=Resource.create(
            {"service.name": "catalog", "service.version": "catalog@2.0.0", "deployment.environment.name": "otel-test"}
        )
    )
    provider.add_span_processor(SimpleSpanProcessor(OTLPSpanExporter(endpoint=otlp_url(relay.url), headers=AUTH)))
    yield provider
    provider.shutdown()


def all_nodes(trace: dict[str, Any]) -> list[dict[str, Any]]:
    def walk(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
        yield node
        for child in node["children"]:
            yield from walk(child)

    return [node for root in trace["roots"] for node in walk(root)]


def wait_trace(inspector: Inspector, trace_id: str, spans: int) -> dict[str, Any]:
    def fetch() -> dict[str, Any] | None:
        response = inspector.http.get(f"/inspect/traces/{trace_id}")
        if response.status_code != 200:
            return None
        trace: dict[str, Any] = response.json()
        return trace if len(all_nodes(trace)) >= spans else None

    return poll(fetch, deadline_s=15, what=f"{spans} spans of trace {trace_id}")


# -- the OpenTelemetry SDK ----------------------------------------------------------------------


def test_the_otel_sdk_s_spans_show_in_the_trace_view(tracer_provider: TracerProvider, inspector: Inspector) -> None:
    tracer = tracer_provider.get_tracer("catalog.web", "1.4")
    with tracer.start_as_current_span(
        "GET /stock/{sku}",
        kind=SpanKind.SERVER,
        attributes={"http.request.method": "GET", "url.path": "/stock/42", "http.response.status_code": 404},
    ) as root:
        with tracer.start_as_current_span("SELECT stock", attributes={"db.system.name": "postgresql"}):
            pass
        with tracer.start_as_current_span(
            "GET", kind=SpanKind.CLIENT, attributes={"http.request.method": "GET", "url.full": "http://pricing:9/p"}
        ) as call:
            call.set_status(Status(StatusCode.ERROR, "pricing is down"))
    trace_id = format(root.get_span_context().trace_id, "032x")

    trace = wait_trace(inspector, trace_id, 3)

    [segment] = trace["roots"]
    assert (segment["kind"], segment["op"], segment["status"]) == ("transaction", "http.server", "not_found")
    assert segment["service"] == "api"  # the project named in the URL
    assert segment["ingest"] == "otlp"
    assert segment["resource"]["service.name"] == "catalog"
    assert segment["resource"]["deployment.environment.name"] == "otel-test"
    assert segment["release"] == "catalog@2.0.0"
    children = {child["op"]: child for child in segment["children"]}
    assert set(children) == {"db", "http.client"}
    assert children["db"]["description"] == "SELECT stock"
    assert children["http.client"]["description"] == "GET http://pricing:9/p"
    assert children["http.client"]["status"] == "unknown_error"
    marks = {(child["ingest"], child["resource"]["service.name"]) for child in children.values()}
    assert marks == {("otlp", "catalog")}
    # The verifier reads the same spans: one service's trace, its segment and spans, checked.
    report = inspector.verify(trace_id=trace_id)
    assert (report["traces_checked"], report["trace_ids"]) == (1, [trace_id])


def test_otlp_requests_are_listed_beside_envelopes_with_their_raw_bytes(
    tracer_provider: TracerProvider, inspector: Inspector
) -> None:
    with tracer_provider.get_tracer("t").start_as_current_span("work") as span:
        pass
    trace_id = format(span.get_span_context().trace_id, "032x")
    inspector.wait("span", trace_id=trace_id)

    [listed] = inspector.envelopes(trace_id=trace_id)
    assert listed["request"]["endpoint"] == "otlp_traces"
    assert listed["header"]["otlp"] == {
        "signal": "traces",
        "content_type": "application/x-protobuf",
        "accepted": 1,
        "rejected": 0,
    }
    raw = inspector.http.get(f"/inspect/envelopes/{listed['id']}/raw")
    assert raw.headers["content-type"] == "application/x-protobuf"
    request = ExportTraceServiceRequest.FromString(raw.content)
    assert request.resource_spans[0].scope_spans[0].spans[0].name == "work"


def test_the_otel_sdk_s_logs_show_on_the_logs_page(
    relay: RelayMock, tracer_provider: TracerProvider, inspector: Inspector
) -> None:
    provider = LoggerProvider(resource=Resource.create({"service.name": "catalog"}))
    provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=otlp_url(relay.url, "logs"), headers=AUTH))
    )
    logger = provider.get_logger("catalog.stock", "1.0")
    try:
        with tracer_provider.get_tracer("t").start_as_current_span("lookup") as span:
            # Inside the span: the record carries the span's context.
            logger.emit(
                severity_number=SeverityNumber.WARN,
                severity_text="WARNING",
                body="stock for sku-42 is low",
                attributes={"sku": "sku-42"},
            )
    finally:
        provider.shutdown()
    trace_id = format(span.get_span_context().trace_id, "032x")
    span_id = format(span.get_span_context().span_id, "016x")

    page = poll(
        lambda: page if (page := inspector.get("/inspect/logs", trace_id=trace_id))["logs"] else None,
        deadline_s=15,
        what="the OTLP log",
    )
    [log] = page["logs"]
    assert (log["level"], log["body"], log["span_id"]) == ("warn", "stock for sku-42 is low", span_id)
    assert log["attributes"]["service.name"] == "catalog"
    assert log["attributes"]["sentry.ingest"] == "otlp"
    assert log["attributes"]["sku"] == "sku-42"


def test_sentry_python_s_otlp_integration_sends_to_relay_mock(relay: RelayMock, inspector: Inspector) -> None:
    # sentry-python's OTLPIntegration derives the OTLP endpoint and auth from the DSN.
    script = textwrap.dedent(
        f"""
        import sentry_sdk
        from opentelemetry import trace
        from sentry_sdk.integrations.otlp import OTLPIntegration

        sentry_sdk.init(dsn={API.dsn(relay.url)!r}, integrations=[OTLPIntegration()], default_integrations=False)
        with trace.get_tracer("shop").start_as_current_span("checkout") as span:
            print(format(span.get_span_context().trace_id, "032x"))
        trace.get_tracer_provider().force_flush()
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    trace_id = done.stdout.strip().splitlines()[-1]

    trace = wait_trace(inspector, trace_id, 1)
    [segment] = trace["roots"]
    assert (segment["description"], segment["ingest"]) == ("checkout", "otlp")
    [listed] = inspector.envelopes(trace_id=trace_id)
    assert listed["request"]["path"] == f"/api/{API.id}/integration/otlp/v1/traces/"


# -- OTLP/JSON by hand --------------------------------------------------------------------------


def json_span(trace_id: str, span_id: str, **fields: Any) -> dict[str, Any]:
    now = time.time_ns()
    return {
        "traceId": trace_id,
        "spanId": span_id,
        "name": "charge",
        "kind": 3,
        "startTimeUnixNano": str(now - 5_000_000),
        "endTimeUnixNano": str(now),
        **fields,
    }


def json_request(*spans: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "payments"}}]},
                "scopeSpans": [{"scope": {"name": "payments.client"}, "spans": list(spans)}],
            }
        ]
    }


def post_json(http: httpx.Client, url: str, document: Any, **headers: str) -> httpx.Response:
    return http.post(url, content=orjson.dumps(document), headers={**JSON, **headers})


def test_an_otlp_json_body_is_stored_with_its_events_and_links(
    relay: RelayMock, http: httpx.Client, inspector: Inspector
) -> None:
    trace_id, other_trace = new_id(), new_id()
    parent = json_span(
        trace_id,
        "a1a2a3a4a5a6a7a8",
        name="POST /pay",
        kind=2,
        attributes=[
            {"key": "http.request.method", "value": {"stringValue": "POST"}},
            {"key": "http.response.status_code", "value": {"intValue": "500"}},
            {"key": "retries", "value": {"arrayValue": {"values": [{"intValue": "1"}, {"intValue": "2"}]}}},
        ],
        status={"code": 2, "message": "card declined"},
    )
    # The proto field names are accepted too (receivers must take both).
    child = {
        "trace_id": trace_id,
        "span_id": "b1b2b3b4b5b6b7b8",
        "parent_span_id": "a1a2a3a4a5a6a7a8",
        "name": "ledger write",
        "start_time_unix_nano": parent["startTimeUnixNano"],
        "end_time_unix_nano": parent["endTimeUnixNano"],
        "attributes": [{"key": "sentry.op", "value": {"string_value": "ledger.write"}}],
        "events": [{"timeUnixNano": parent["endTimeUnixNano"], "name": "exception"}],
        "links": [{"traceId": other_trace, "spanId": "c1c2c3c4c5c6c7c8"}],
    }
    body = gzip.compress(orjson.dumps(json_request(parent, child)))
    response = http.post(
        otlp_url(relay.url, slash=False),
        content=body,
        headers={**AUTH, "content-type": "application/json", "content-encoding": "gzip"},
    )

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {}
    trace = wait_trace(inspector, trace_id, 2)
    [segment] = trace["roots"]
    # A segment is named by its span (an OTel server span: "METHOD route"), as a transaction by its name.
    assert (segment["op"], segment["status"], segment["description"]) == ("http.server", "internal_error", "POST /pay")
    [ledger] = segment["children"]
    assert (ledger["op"], ledger["resource"]) == ("ledger.write", {"service.name": "payments"})
    [listed] = inspector.envelopes(trace_id=trace_id)
    stored = {span["span_id"]: span for span in listed["items"][0]["payload"]["items"]}
    assert stored["b1b2b3b4b5b6b7b8"]["events"][0]["name"] == "exception"
    assert stored["b1b2b3b4b5b6b7b8"]["links"][0]["trace_id"] == other_trace
    assert stored["a1a2a3a4a5a6a7a8"]["attributes"]["retries"] == {"type": "array", "value": [1, 2]}
    assert stored["a1a2a3a4a5a6a7a8"]["attributes"]["otel.status_message"]["value"] == "card declined"


def test_otlp_json_logs_reach_the_logs_store(relay: RelayMock, http: httpx.Client, inspector: Inspector) -> None:
    trace_id = new_id()
    document = {
        "resourceLogs": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "payments"}}]},
                "scopeLogs": [
                    {
                        "logRecords": [
                            {
                                "timeUnixNano": str(time.time_ns()),
                                "severityNumber": 17,
                                "body": {"stringValue": "card declined"},
                                "traceId": trace_id,
                                "attributes": [{"key": "amount", "value": {"doubleValue": 9.5}}],
                            },
                            {  # outside any span: all-zero ids are the data model's "no context"
                                "observedTimeUnixNano": str(time.time_ns()),
                                "severityText": "WARNING",
                                "body": {"stringValue": f"no context {trace_id}"},
                                "traceId": "0" * 32,
                                "spanId": "0" * 16,
                            },
                        ]
                    }
                ],
            }
        ]
    }
    response = post_json(http, otlp_url(relay.url, "logs", slash=False), document)

    assert response.status_code == 200, response.text
    [log] = inspector.get("/inspect/logs", trace_id=trace_id)["logs"]
    assert (log["level"], log["body"]) == ("error", "card declined")
    assert (log["attributes"]["amount"], log["attributes"]["service.name"]) == (9.5, "payments")
    [loose] = inspector.get("/inspect/logs", q=f"no context {trace_id}")["logs"]
    assert (loose["level"], loose["span_id"]) == ("warn", None)
    assert loose["trace_id"] not in (trace_id, "0" * 32)  # a trace of its own, and it says so
    assert loose["attributes"]["sentry.trace_id.generated"] is True
    with mcp_client(relay) as mcp:
        [found] = mcp.call("search_logs", trace_id=trace_id, query="declined")["structuredContent"]["logs"]
    assert found["body"] == "card declined"


def test_mcp_shows_an_otlp_trace(relay: RelayMock, http: httpx.Client, inspector: Inspector) -> None:
    trace_id = new_id()
    response = post_json(http, otlp_url(relay.url), json_request(json_span(trace_id, "f1f2f3f4f5f6f7f8")))
    assert response.status_code == 200, response.text

    with mcp_client(relay) as mcp:
        trace = mcp.call("get_trace", trace_id=trace_id)["structuredContent"]
    [segment] = trace["roots"]
    assert (segment["span_id"], segment["ingest"], segment["resource"]) == (
        "f1f2f3f4f5f6f7f8",
        "otlp",
        {"service.name": "payments"},
    )


@contextlib.contextmanager
def mcp_client(relay: RelayMock) -> Iterator[McpClient]:
    client = McpClient(relay.url)
    hello = {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "pytest", "version": "1"}}
    assert "result" in client.request("initialize", hello)
    client.http.headers["MCP-Protocol-Version"] = PROTOCOL
    try:
        yield client
    finally:
        client.close()


def test_spans_it_cannot_take_are_counted_in_partial_success(
    relay: RelayMock, http: httpx.Client, inspector: Inspector
) -> None:
    trace_id = new_id()
    good = json_span(trace_id, "d1d2d3d4d5d6d7d8")
    short_id = json_span(trace_id, "d1d2d3")
    backwards = json_span(
        trace_id,
        "e1e2e3e4e5e6e7e8",
        startTimeUnixNano=good["endTimeUnixNano"],
        endTimeUnixNano=good["startTimeUnixNano"],
    )

    response = post_json(http, otlp_url(relay.url), json_request(good, short_id, backwards))

    assert response.status_code == 200, response.text
    partial = response.json()["partialSuccess"]
    assert partial["rejectedSpans"] == "2"
    assert "spans[1]: span_id has 3 bytes, expected 8" in partial["errorMessage"]
    assert "spans[2]: end_time_unix_nano is before start_time_unix_nano" in partial["errorMessage"]
    trace = wait_trace(inspector, trace_id, 1)
    assert [node["span_id"] for node in all_nodes(trace)] == ["d1d2d3d4d5d6d7d8"]
    assert inspector.envelope(trace_id=trace_id)["header"]["otlp"]["rejected"] == 2


def test_partial_success_is_answered_in_protobuf_to_a_protobuf_request(relay: RelayMock, http: httpx.Client) -> None:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = bytes(range(1, 9)), bytes(range(1, 9)), "half a trace id"
    span.start_time_unix_nano = span.end_time_unix_nano = time.time_ns()

    response = http.post(otlp_url(relay.url), content=request.SerializeToString(), headers=PROTOBUF)

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-protobuf"
    answer = ExportTraceServiceResponse.FromString(response.content)
    assert answer.partial_success.rejected_spans == 1
    assert "trace_id has 8 bytes, expected 16" in answer.partial_success.error_message


# -- refusals -----------------------------------------------------------------------------------

Send = Callable[[httpx.Client, str], httpx.Response]


def _raw(body: bytes, *, path: str | None = None, **headers: str) -> Send:
    def send(http: httpx.Client, url: str) -> httpx.Response:
        return http.post(f"{url}{path}" if path else otlp_url(url), content=body, headers=headers)

    return send


BOMB = gzip.compress(b"\x00" * (64 * 1024 * 1024))  # 64 KiB that inflate to 64 MiB
VALID_JSON = orjson.dumps(json_request(json_span("1" * 32, "2" * 16)))

REFUSALS: dict[str, tuple[Send, int, str, str]] = {
    "another content type": (_raw(VALID_JSON, **{**AUTH, "content-type": "text/plain"}), 415,
                             "unsupported_media_type", "unsupported content type 'text/plain'"),
    "truncated protobuf": (_raw(b"\x0a\x80\x01\x0a", **PROTOBUF), 400, "undecodable_body",
                           "body is not a protobuf ExportTraceServiceRequest"),
    "not JSON": (_raw(b"{resourceSpans", **JSON), 400, "undecodable_body", "body is not valid JSON"),
    "a base64 id in JSON": (_raw(VALID_JSON.replace(b'"1111', b'"ERER'), **JSON), 400, "undecodable_body",
                            "traceId is not hex"),
    "a wrong field type": (_raw(b'{"resourceSpans": 3}', **JSON), 400, "undecodable_body",
                           "body is not an OTLP/JSON ExportTraceServiceRequest"),
    "no credentials": (_raw(VALID_JSON, **{"content-type": "application/json"}), 401, "auth",
                       "missing authorization"),
    "another project's key": (_raw(VALID_JSON, **{**JSON, "x-sentry-auth": f"sentry sentry_key={DOWNSTREAM.key}"}),
                              401, "unknown_key", "public key is not a key of project 1"),
    "an unknown key": (_raw(VALID_JSON, **{**JSON, "x-sentry-auth": "sentry sentry_key=" + "0" * 32}), 401,
                       "unknown_key", "public key is not a key of project 1"),
    "over the size limit": (_raw(b"\x0a" * (MAX_COMPRESSED + 1), **PROTOBUF), 413, "too_large_compressed",
                            "request body exceeds the size limit"),
    "a decompression bomb": (_raw(BOMB, **{**PROTOBUF, "content-encoding": "gzip"}), 413, "too_large_decompressed",
                             "exceeds the decompressed size limit"),
    "an unknown project": (_raw(VALID_JSON, path="/api/99/integration/otlp/v1/traces/", **JSON), 403,
                           "unknown_project", "unknown project 99"),
}  # fmt: skip


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_refused_otlp_request_says_why_and_is_logged(
    case: tuple[Send, int, str, str], relay: RelayMock, http: httpx.Client, inspector: Inspector
) -> None:
    send, status, reason, detail = case

    response = send(http, relay.url)

    assert response.status_code == status, response.text
    assert detail in response.json()["detail"], response.json()
    assert isinstance(response.json()["causes"], list)
    [refusal] = inspector.wait_refusals(1)
    assert (refusal["status"], refusal["reason"]) == (status, reason)
    assert detail in refusal["detail"]
    assert refusal["item_types"] == '["span"]'  # what the request would have become
    assert inspector.envelopes() == []


@pytest.mark.parametrize("path", ["/v1/traces", "/v1/traces/", "/v1/logs", "/v1/logs/"])
def test_both_signals_take_the_path_with_and_without_its_slash(path: str, relay: RelayMock, http: httpx.Client) -> None:
    response = http.post(f"{relay.url}/api/1/integration/otlp{path}", content=b"{}", headers=JSON)
    assert response.status_code == 200, response.text
    assert response.json() == {}


AUTH_FORMS = {
    "x-sentry-auth": ("", {"x-sentry-auth": f"sentry sentry_key={API.key}"}),
    "authorization": ("", {"authorization": f"Sentry sentry_key={API.key}, sentry_version=7"}),
    "query": (f"?sentry_key={API.key}", {}),
}


@pytest.mark.parametrize("form", AUTH_FORMS)
def test_every_credential_form_of_an_envelope_authenticates(form: str, relay: RelayMock, http: httpx.Client) -> None:
    query, headers = AUTH_FORMS[form]
    response = http.post(
        otlp_url(relay.url) + query, content=VALID_JSON, headers={"content-type": "application/json", **headers}
    )
    assert response.status_code == 200, response.text
    assert inspector_auth(relay) == form


def inspector_auth(relay: RelayMock) -> str | None:
    with Inspector(relay.url) as inspector:
        [listed] = inspector.envelopes()
    return listed["request"]["auth"]  # type: ignore[no-any-return]


def test_credentials_in_two_places_are_refused(relay: RelayMock, http: httpx.Client, inspector: Inspector) -> None:
    response = http.post(f"{otlp_url(relay.url)}?sentry_key={API.key}", content=VALID_JSON, headers=JSON)

    assert response.status_code == 401
    assert response.json()["detail"] == "multiple authorization payloads"
    assert inspector.wait_refusals(1)[0]["reason"] == "auth"


# -- durability ---------------------------------------------------------------------------------


def test_every_otlp_request_acknowledged_before_a_kill_9_survives_it(start_relay: Callable[..., RelayMock]) -> None:
    relay = start_relay()
    acked: list[str] = []
    lock = threading.Lock()

    def sender() -> None:
        with httpx.Client(timeout=10) as http:
            while True:
                trace_id = new_id()
                body = orjson.dumps(json_request(json_span(trace_id, new_id()[:16])))
                try:
                    response = http.post(otlp_url(relay.url), content=body, headers=JSON)
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    with lock:
                        acked.append(trace_id)

    senders = [threading.Thread(target=sender) for _ in range(4)]
    for thread in senders:
        thread.start()
    poll(lambda: True if len(acked) >= 200 else None, deadline_s=30, what="200 acknowledged OTLP requests")

    relay.crash()
    for thread in senders:
        thread.join(timeout=15)
    relay.start()

    with Inspector(relay.url) as inspector:
        stored = {trace_id for envelope in inspector.client.iter_envelopes() if (trace_id := envelope.trace_id)}
    lost = [trace_id for trace_id in acked if trace_id not in stored]
    assert not lost, f"{len(lost)} of {len(acked)} acknowledged OTLP requests were lost in the crash"
