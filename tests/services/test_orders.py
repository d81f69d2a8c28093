"""The business paths across the api → downstream hop, and what each leaves in Sentry:
success and out-of-stock report no error; a failing downstream is reported once by each
service; a slow downstream shows its latency in both transactions."""

from __future__ import annotations

import json

import pytest

from tests.support.relay import StackRelay
from tests.support.stack import Stack
from tests.support.traffic import TIMER_SLACK_S, duration_s, new_trace, place_order, settle, spans_by_op

pytestmark = pytest.mark.stack


def test_a_placed_order_is_confirmed_and_reports_no_error(stack: Stack, relay: StackRelay) -> None:
    trace_id, trace = new_trace()

    response = place_order(stack, trace)

    assert response.status_code == 201, response.text
    assert (response.json()["status"], response.json()["trace_id"]) == ("confirmed", trace_id)
    relay.wait_for_transactions(trace_id, {"api", "downstream"})
    settle(stack, relay)
    assert relay.errors(trace_id=trace_id) == []


def test_an_out_of_stock_order_answers_409_and_neither_service_reports_an_error(
    stack: Stack, relay: StackRelay
) -> None:
    trace_id, trace = new_trace()

    response = place_order(stack, trace, sku="SOLD-OUT")

    assert response.status_code == 409, response.text
    assert (response.json()["error"], response.json()["sku"]) == ("out_of_stock", "SOLD-OUT")
    found = relay.wait_for_transactions(trace_id, {"api", "downstream"})
    settle(stack, relay)
    assert relay.errors(trace_id=trace_id) == []
    for service in ("api", "downstream"):
        (_, transaction), *_ = found[service]
        assert transaction["payload"]["contexts"]["trace"]["status"] == "already_exists", service


def test_a_failing_downstream_answers_502_and_each_service_reports_it_once(stack: Stack, relay: StackRelay) -> None:
    trace_id, trace = new_trace()

    response = place_order(stack, trace, fault="downstream:error")

    assert response.status_code == 502, response.text
    assert response.json()["error"] == "dependency_failed"
    relay.wait("event", trace_id=trace_id, count=2)
    settle(stack, relay)
    errors = sorted(relay.errors(trace_id=trace_id), key=lambda error: str(error["project"]))
    assert [(error["project"], error["type"]) for error in errors] == [
        ("api", "DependencyFailed"),
        ("downstream", "InjectedFault"),
    ]
    assert {error["trace_id"] for error in errors} == {trace_id}


def test_a_slow_downstream_shows_its_latency_in_both_transactions(stack: Stack, relay: StackRelay) -> None:
    trace_id, trace = new_trace()

    response = place_order(stack, trace, fault="downstream:latency=400")

    assert response.status_code == 201, response.text
    found = relay.wait_for_transactions(trace_id, {"api", "downstream"})
    (_, api_tx), (_, down_tx) = found["api"][0], found["downstream"][0]
    (latency,) = spans_by_op(down_tx["payload"])["fault.latency"]
    assert duration_s(latency) >= 0.4 - TIMER_SLACK_S
    (call,) = [s for s in spans_by_op(api_tx["payload"])["http.client"] if "/reservations" in s["description"]]
    assert duration_s(call) >= 0.4 - TIMER_SLACK_S
    assert down_tx["payload"]["contexts"]["trace"]["parent_span_id"] == call["span_id"]


def test_a_placed_order_answers_with_what_each_service_received(stack: Stack, relay: StackRelay) -> None:
    """Witnessed propagation: api's answer says what it and downstream received, and downstream
    received api's http.client span as its parent, as its transaction says too."""
    trace_id, trace = new_trace()

    response = place_order(stack, trace)

    assert response.status_code == 201, response.text
    witnesses = json.loads(response.headers["x-sandbox-witness"])
    assert [w["service"] for w in witnesses] == ["api", "downstream"]
    assert witnesses[0]["received"] == trace["sentry-trace"]
    received_trace, received_parent, received_sampled = witnesses[1]["received"].split("-")
    assert (received_trace, received_sampled) == (trace_id, "1")
    found = relay.wait_for_transactions(trace_id, {"api", "downstream"})
    (_, downstream), *_ = found["downstream"]
    assert downstream["payload"]["contexts"]["trace"]["parent_span_id"] == received_parent
