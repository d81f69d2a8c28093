"""A trace split at the Sentry/OpenTelemetry boundary, seen on relay-mock's trace pages.

A real relay-mock process holds a Sentry SDK's transactions (envelopes) and an OpenTelemetry
service's spans stored as OTLP ingest stores them (v2 spans in a `span` item, `sentry.ingest`
= "otlp", no DSC); the callee did not read the caller's context format and started a trace of
its own. `/inspect/traces/{id}` of either half names the break and links to the other half,
which the page reads from the store even though nothing links the two by id."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import orjson
import pytest

from tests.relay_http.inspector import Inspector
from tests.relay_http.wire import API, new_id
from tests.support.relay_server import RelayMock
from tests.support.split_trace import send_mid_hop_split, send_transaction, server_transaction


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayMock]:
    with RelayMock(tmp_path_factory.mktemp("split"), env={}) as relay:
        yield relay


@pytest.fixture
def inspector(relay: RelayMock) -> Iterator[Inspector]:
    with Inspector(relay.url) as inspector:
        yield inspector


def test_a_mid_hop_split_links_both_trace_pages(relay: RelayMock, inspector: Inspector) -> None:
    """downstream (sentry-sdk) called an OTel service that reads traceparent only: no witness,
    the callee's root inside the call span's window is the evidence."""
    split = send_mid_hop_split(relay.url)
    caller, callee, otel_call = split.caller, split.callee, split.call_span
    inspector.wait("transaction", count=2, trace_id=caller)

    first = inspector.get(f"/inspect/traces/{caller}")
    second = inspector.get(f"/inspect/traces/{callee}")

    [finding] = first["verification"]["findings"]
    assert (finding["kind"], finding["other_trace_id"], finding["span_id"]) == ("propagation_format", callee, otel_call)
    assert "sent sentry-trace and baggage (no traceparent); playground continued none of it" in finding["message"]
    assert first["verification"]["verdict"] == "failed"
    [link] = first["broken_links"]
    assert (link["other_trace_id"], link["span_id"]) == (callee, otel_call)
    [back] = second["broken_links"]
    assert (back["other_trace_id"], back["service"]) == (caller, "playground")
    assert second["roots"][0]["broken"].startswith(f"playground did not continue trace {caller}")


def test_a_head_split_by_w3c_propagation_links_both_trace_pages(relay: RelayMock, inspector: Inspector) -> None:
    """Locust sent traceparent only; api (sentry-sdk) started a trace of its own, as its
    witness says. The expected trace holds nothing, yet its page says where the request went."""
    t = time.time()
    expected, started = new_id(), new_id()
    locust_span, api_span = new_id()[:16], new_id()[:16]
    traceparent = f"00-{expected}-{locust_span}-01"
    with httpx.Client(timeout=30) as http:
        send_transaction(http, relay.url, API, server_transaction(started, "/orders", api_span, None, t + 0.01, []))
    inspector.wait("transaction", trace_id=started)
    recorded = inspector.client.record_expectations(
        [
            {
                "trace_id": expected,
                "scenario": "orders",
                "started_at": t,
                "ended_at": t + 0.3,
                "expect_services": ["api"],
                "propagation": "w3c",
                "witnesses": [
                    {"service": "api", "received": "", "sampled": True, "traceparent": traceparent, "trace_id": started}
                ],
            }
        ]
    )
    assert recorded == 1

    [stored] = inspector.get("/inspect/expectations", trace_id=expected)["expectations"]
    head = inspector.get(f"/inspect/traces/{expected}")
    other = inspector.get(f"/inspect/traces/{started}")

    assert stored["propagation"] == "w3c"
    assert (stored["witnesses"][0]["traceparent"], stored["witnesses"][0]["trace_id"]) == (traceparent, started)
    [finding] = head["verification"]["findings"]
    assert finding["kind"] == "propagation_format"
    assert finding["message"].startswith(
        "the caller's request sent traceparent only (no sentry-trace);"
        f" api continued none of it and started trace {started}"
    )
    assert [(b["other_trace_id"], b["service"]) for b in head["broken_links"]] == [(started, "api")]
    assert [(b["other_trace_id"], b["span_id"]) for b in other["broken_links"]] == [(expected, api_span)]


def test_an_expectation_with_an_unknown_propagation_is_refused_naming_it(inspector: Inspector) -> None:
    response = inspector.http.post(
        "/inspect/expectations",
        content=orjson.dumps([{"trace_id": new_id(), "scenario": "x", "propagation": "b3"}]),
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 422
    refusal = response.json()
    assert refusal["detail"] == "invalid expectations[0].propagation"
    assert all(value in refusal["causes"][0] for value in ("'sentry'", "'w3c'", "'both'")), refusal
