"""Fault rules against the real sentry-python SDK (in a process of its own) and over raw HTTP:
what each rule does to requests, how the SDK copes (backs off, reports what it lost in a
client_report), and how relay-mock counts what it refused on purpose."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.relay_http.inspector import Inspector
from tests.relay_http.sdk import run_sdk
from tests.relay_http.wire import API, DOWNSTREAM, event_envelope, post_envelope, send_event
from tests.support.polling import poll
from tests.support.relay_server import RelayMock


@pytest.fixture(autouse=True)
def fresh(inspector: Inspector) -> None:
    """Each test starts with no rules and an empty store, so counts are its own."""
    inspector.clear()


def reported_losses(inspector: Inspector) -> dict[str, Any]:
    """What the SDK's client reports said it lost, as /inspect/stats adds it up."""
    inspector.wait("client_report")
    return dict(inspector.stats()["client_reports"])


# ---------------------------------------------------------------- rate limits and the SDK


def test_a_transaction_rate_limit_stops_the_sdk_sending_transactions_while_errors_still_arrive(
    relay: RelayMock, inspector: Inspector
) -> None:
    inspector.add_fault(action="rate_limit", categories=["transaction"], retry_after=60)

    sent = run_sdk(API.dsn(relay.url), "transaction", "error", "transaction", "transaction", "transaction")

    assert [e["event_id"] for e in inspector.envelopes(type="event")] == sent["errors"]
    assert inspector.envelopes(type="transaction") == []
    [refused] = inspector.wait_refusals(1)
    assert (refused["status"], refused["reason"], refused["injected"]) == (429, "injected_rate_limit", True)
    assert inspector.faults()[0]["hits"] == 1, "after the 429 the SDK must not try to send transactions"


def test_the_sdk_reports_transactions_dropped_under_a_rate_limit_as_ratelimit_backoff(
    relay: RelayMock, inspector: Inspector
) -> None:
    inspector.add_fault(action="rate_limit", categories=["transaction"])

    run_sdk(API.dsn(relay.url), "transaction", "error", "transaction", "transaction", "transaction")

    losses = reported_losses(inspector)
    # The first transaction was refused by relay-mock (it counts it, the SDK does not); the SDK
    # held back the three after it, with their spans.
    assert set(losses["by_reason"]) == {"ratelimit_backoff"}
    assert losses["by_category"]["transaction"] == 3
    assert losses["by_category"]["span"] == 6


def test_a_rate_limit_answer_carries_retry_after_and_the_sentry_rate_limits_header(
    relay: RelayMock, inspector: Inspector, http: httpx.Client
) -> None:
    inspector.add_fault(action="rate_limit", categories=["error", "transaction"], retry_after=30)

    response = post_envelope(http, relay.url, event_envelope()[1])

    assert response.status_code == 429
    assert response.headers["retry-after"] == "30"
    assert response.headers["x-sentry-rate-limits"] == "30:error;transaction:key"


def test_injected_refusals_are_counted_apart_from_real_ones(
    relay: RelayMock, inspector: Inspector, http: httpx.Client
) -> None:
    inspector.add_fault(action="status", status=503, count=1)
    assert post_envelope(http, relay.url, event_envelope()[1]).status_code == 503
    assert post_envelope(http, relay.url, b"not an envelope").status_code == 400

    refusals = inspector.wait_refusals(2)

    assert {(r["reason"], r["injected"]) for r in refusals} == {
        ("injected_status", True),
        ("malformed_envelope", False),
    }
    refused = inspector.stats()["refused"]
    assert (refused["total"], refused["injected"]) == (2, 1)
    assert refused["by_status"] == {"503": 1, "400": 1}


# ---------------------------------------------------------------- status, drop, and the SDK


def test_a_status_rule_for_the_next_two_requests_costs_the_sdk_two_errors_which_it_reports(
    relay: RelayMock, inspector: Inspector
) -> None:
    inspector.add_fault(action="status", status=503, count=2)

    sent = run_sdk(API.dsn(relay.url), "error", "error", "error")

    assert [e["event_id"] for e in inspector.envelopes(type="event")] == sent["errors"][2:]
    assert inspector.faults() == [], "the rule is used up"
    losses = reported_losses(inspector)
    assert (losses["by_reason"], losses["by_category"]) == ({"network_error": 2}, {"error": 2})


def test_a_drop_rule_closes_the_connection_without_an_answer(
    relay: RelayMock, inspector: Inspector, http: httpx.Client
) -> None:
    inspector.add_fault(action="drop", count=1)

    with pytest.raises(httpx.TransportError):
        post_envelope(http, relay.url, event_envelope()[1])

    assert inspector.wait_refusals(1)[0]["reason"] == "injected_drop"
    send_event(http, relay.url)  # and the next request is served


def test_the_sdk_reports_an_error_lost_to_a_dropped_connection_as_network_error(
    relay: RelayMock, inspector: Inspector
) -> None:
    inspector.add_fault(action="drop", count=1)

    sent = run_sdk(API.dsn(relay.url), "error", "error")

    assert [e["event_id"] for e in inspector.envelopes(type="event")] == sent["errors"][1:]
    losses = reported_losses(inspector)
    assert (losses["by_reason"], losses["by_category"]) == ({"network_error": 1}, {"error": 1})


# ---------------------------------------------------------------- what a rule applies to


def test_a_fraction_rule_refuses_about_that_share_of_requests(
    relay: RelayMock, inspector: Inspector, http: httpx.Client
) -> None:
    inspector.add_fault(action="status", status=500, fraction=0.5)

    statuses = [post_envelope(http, relay.url, event_envelope()[1]).status_code for _ in range(200)]

    refused = statuses.count(500)
    assert statuses.count(200) + refused == 200
    assert 60 <= refused <= 140, f"{refused} of 200 refused; half expected (±5 standard deviations)"
    assert inspector.faults()[0]["hits"] == refused


def test_a_rule_with_a_duration_expires_by_itself(relay: RelayMock, inspector: Inspector, http: httpx.Client) -> None:
    inspector.add_fault(action="status", status=503, duration_s=1)
    added = time.monotonic()
    assert post_envelope(http, relay.url, event_envelope()[1]).status_code == 503

    poll(
        lambda: True if post_envelope(http, relay.url, event_envelope()[1]).status_code == 200 else None,
        deadline_s=10,
        what="the rule to expire",
    )

    assert time.monotonic() - added >= 1
    assert inspector.faults() == []


def test_a_rule_for_one_project_leaves_the_others_alone(
    relay: RelayMock, inspector: Inspector, http: httpx.Client
) -> None:
    inspector.add_fault(action="status", status=503, project=DOWNSTREAM.id)

    assert post_envelope(http, relay.url, event_envelope()[1], project=DOWNSTREAM).status_code == 503
    assert post_envelope(http, relay.url, event_envelope()[1], project=API).status_code == 200


def test_a_latency_rule_delays_the_acknowledgement(relay: RelayMock, inspector: Inspector, http: httpx.Client) -> None:
    inspector.add_fault(action="latency", latency_ms=600, count=1)
    event_id, body = event_envelope()
    started = time.monotonic()

    response = post_envelope(http, relay.url, body)

    assert time.monotonic() - started >= 0.6
    assert response.json() == {"id": event_id}
    assert inspector.envelope(event_id=event_id)


# ---------------------------------------------------------------- invalid rules

INVALID_RULES = [
    ({"action": "explode"}, "action"),
    ({"action": "status", "status": 200}, "status"),
    ({"action": "latency"}, "latency_ms"),
    ({"action": "rate_limit", "categories": "transaction"}, "categories"),
    ({"action": "rate_limit", "retry_after": 1.5}, "retry_after"),
    ({"action": "drop", "count": 0}, "count"),
    ({"action": "drop", "fraction": 2}, "fraction"),
    ({"action": "drop", "duration_s": -1}, "duration_s"),
    ({"action": "drop", "project": "api"}, "project"),
    ({"action": "drop", "colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("rule", "field"), INVALID_RULES, ids=[field for _, field in INVALID_RULES])
def test_an_invalid_rule_is_a_422_naming_the_field(inspector: Inspector, rule: dict[str, Any], field: str) -> None:
    # Raw: the client would send the rule, but the test reads the refusal itself.
    response = inspector.http.post("/inspect/faults", json=rule)

    assert response.status_code == 422
    assert response.json()["detail"] == f"invalid fault rule field {field}"
    assert inspector.faults() == []
