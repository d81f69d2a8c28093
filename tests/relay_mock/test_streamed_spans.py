"""Traces drawn from `span` items, as SDKs that stream spans send them: a v2 container whose
segment span stands where a transaction would, a v1 standalone span, and payloads that are
not spans at all. The tree is built from the verifier's facts and marked with its findings,
as the trace page builds it."""

from __future__ import annotations

import json
from typing import Any

from relay_mock.models import as_json
from relay_mock.verify.checks import verify
from relay_mock.verify.collect import bundles_from_rows
from relay_mock.verify.model import VerifyConfig
from relay_mock.verify.span_facts import streamed_spans
from relay_mock.verify.trace_tree import build_trace

TRACE = "a" * 32
CONFIG = VerifyConfig(project_ids={"api": 1, "downstream": 2})


def span_row(project: str, payload: Any, envelope_id: str = "e1") -> dict[str, Any]:
    """A `span` item row as the verifier's collection reads it from the store."""
    return {
        "type": "span",
        "trace_id": TRACE,
        "project": project,
        "envelope_id": envelope_id,
        "release": None,
        "environment": None,
        "header": json.dumps({"trace": {"trace_id": TRACE}}),
        "received_at": 1_800_000_001.0,
        "payload": json.dumps(payload),
    }


def trace_of(*rows: dict[str, Any]) -> dict[str, Any]:
    [bundle] = bundles_from_rows(rows)
    return as_json(build_trace(bundle, verify([bundle], client_reports=[], refusals=[], config=CONFIG)))


def v2(*spans: dict[str, Any]) -> dict[str, Any]:
    return {"items": list(spans)}


def v2_span(span_id: str, name: str, *, parent: str | None = None, segment: bool = False, op: str) -> dict[str, Any]:
    typed = {"type": "string"}
    return {
        "trace_id": TRACE,
        "span_id": span_id,
        "parent_span_id": parent,
        "name": name,
        "status": "ok",
        "is_segment": segment,
        "start_timestamp": 1_800_000_000.0,
        "end_timestamp": 1_800_000_000.25,
        "attributes": {"sentry.op": {**typed, "value": op}, "sentry.release": {**typed, "value": "shop@1"}},
    }


def test_a_v2_segment_is_its_services_transaction_and_its_children_hang_off_it() -> None:
    payload = v2(
        v2_span("1" * 16, "POST /checkout", segment=True, op="http.server"),
        v2_span("2" * 16, "POST http://downstream/reservations", parent="1" * 16, op="http.client"),
    )

    trace = trace_of(span_row("api", payload))

    [segment] = trace["roots"]
    assert (segment["kind"], segment["op"], segment["description"], segment["release"]) == (
        "transaction",
        "http.server",
        "POST /checkout",
        "shop@1",
    )
    assert segment["duration_ms"] == 250.0
    [call] = segment["children"]
    assert (call["kind"], call["op"]) == ("span", "http.client")
    # Nobody answered the call to an instrumented service: the tree says so.
    assert call["missing_child"].startswith("api called downstream (POST http://downstream/reservations)")
    assert trace["complete"] is False
    assert trace["verification"]["verdict"] == "failed"


def test_a_downstream_segment_continuing_the_call_completes_the_trace() -> None:
    api = v2(
        v2_span("1" * 16, "POST /checkout", segment=True, op="http.server"),
        v2_span("2" * 16, "POST http://downstream/reservations", parent="1" * 16, op="http.client"),
    )
    downstream = v2(v2_span("3" * 16, "POST /reservations", parent="2" * 16, segment=True, op="http.server"))

    trace = trace_of(span_row("downstream", downstream, "e2"), span_row("api", api))

    assert (trace["complete"], trace["transactions"], trace["services"]) == (True, 2, ["api", "downstream"])
    [call] = trace["roots"][0]["children"]
    [answer] = call["children"]
    assert (answer["service"], answer["kind"], answer["envelope_id"]) == ("downstream", "transaction", "e2")


def test_the_trace_names_each_services_sdk_so_a_hop_between_majors_shows() -> None:
    api = v2(
        v2_span("1" * 16, "POST /checkout", segment=True, op="http.server"),
        v2_span("2" * 16, "POST http://downstream/reservations", parent="1" * 16, op="http.client"),
    )
    downstream = v2(v2_span("3" * 16, "POST /reservations", parent="2" * 16, segment=True, op="http.server"))

    trace = trace_of(
        {**span_row("downstream", downstream, "e2"), "sdk_client": "sentry.python/3.0.0"},
        {**span_row("api", api), "sdk_client": "sentry.python/2.75.0"},
        {**span_row("api", v2(v2_span("4" * 16, "GET /health", segment=True, op="http.server")), "e3")},
    )

    assert trace["sdks"] == {"api": ["sentry.python/2.75.0"], "downstream": ["sentry.python/3.0.0"]}
    [api_root] = [root for root in trace["roots"] if root["description"] == "POST /checkout"]
    assert (api_root["sdk"], api_root["children"][0]["children"][0]["sdk"]) == (
        "sentry.python/2.75.0",
        "sentry.python/3.0.0",
    )


def test_a_v1_standalone_span_keeps_its_op_and_description() -> None:
    payload = {
        "trace_id": TRACE,
        "span_id": "4" * 16,
        "op": "ui.interaction.click",
        "description": "body > button",
        "start_timestamp": 1_800_000_000.0,
        "timestamp": 1_800_000_000.1,
    }

    [streamed] = streamed_spans(payload)

    span = streamed.span
    assert (span.op, span.description, streamed.segment) == ("ui.interaction.click", "body > button", False)
    assert span.end is not None and span.start is not None
    assert round(span.end - span.start, 3) == 0.1


def test_payloads_that_are_not_spans_give_no_spans() -> None:
    assert streamed_spans(None) == []
    assert streamed_spans([1, 2]) == []
    assert streamed_spans({"items": [1, "x", None]}) == []


def test_a_span_after_an_entry_that_is_not_a_span_keeps_its_own_attributes() -> None:
    segment = v2_span("1" * 16, "POST /checkout", segment=True, op="http.server")
    segment["attributes"]["sentry.environment"] = {"type": "string", "value": "staging"}
    call = v2_span("2" * 16, "POST http://downstream/reservations", parent="1" * 16, op="http.client")
    call["attributes"]["http.response.status_code"] = {"type": "integer", "value": 503}

    [bundle] = bundles_from_rows([span_row("api", {"items": ["not a span", segment, call]})])

    [transaction] = bundle.transactions
    assert transaction.environment == "staging"
    [span] = transaction.spans
    assert (span.span_id, span.http_status) == ("2" * 16, 503)
