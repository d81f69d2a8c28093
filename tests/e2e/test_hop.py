"""The walking skeleton's promise: one request's trace crosses the api → downstream hop
intact, and both services' data lands in relay-mock."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import pytest

from tests.support.projects import API
from tests.support.relay import StackRelay
from tests.support.stack import Stack

pytestmark = pytest.mark.stack


def _order(stack: Stack, trace_id: str, parent_span_id: str) -> httpx.Response:
    return httpx.post(
        f"{stack.api_url}/orders",
        json={"sku": "SKU-1", "quantity": 1, "customer": "e2e"},
        headers={"sentry-trace": f"{trace_id}-{parent_span_id}-1"},
        timeout=10,
    )


def _spans(item: dict[str, Any], op: str) -> list[dict[str, Any]]:
    return [span for span in item["payload"].get("spans", []) if span.get("op") == op]


def test_an_order_produces_one_linked_trace_across_both_services(stack: Stack, relay: StackRelay) -> None:
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    response = _order(stack, trace_id, caller_span)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "confirmed"

    relay.wait_for_transactions(trace_id, {"api", "downstream"})
    # A barrier instead of a sleep: each SDK sends in order, so once a later trace's
    # transactions are in, anything more of the first trace would have arrived too.
    barrier = secrets.token_hex(16)
    assert _order(stack, barrier, secrets.token_hex(8)).status_code == 201
    relay.wait_for_transactions(barrier, {"api", "downstream"})
    found = relay.transactions_by_project(trace_id)

    assert set(found) == {"api", "downstream"}
    assert len(found["api"]) == 1, "api sent more than one transaction for one request"
    assert len(found["downstream"]) == 1, "downstream sent more than one transaction for one request"
    (api_envelope, api_tx), (down_envelope, down_tx) = found["api"][0], found["downstream"][0]

    api_trace = api_tx["payload"]["contexts"]["trace"]
    down_trace = down_tx["payload"]["contexts"]["trace"]
    assert api_trace["trace_id"] == down_trace["trace_id"] == trace_id
    assert api_trace["parent_span_id"] == caller_span

    calls = [s for s in _spans(api_tx, "http.client") if "/reservations" in (s.get("description") or "")]
    assert len(calls) == 1, f"expected one http.client span to downstream, got {calls}"
    assert down_trace["parent_span_id"] == calls[0]["span_id"]

    assert api_envelope["header"]["trace"] == down_envelope["header"]["trace"]
    assert api_envelope["header"]["trace"]["trace_id"] == trace_id
    assert _spans(api_tx, "db"), "api's transaction has no database span"
    assert _spans(down_tx, "db"), "downstream's transaction has no database span"


def test_an_order_can_be_read_back(stack: Stack) -> None:
    created = _order(stack, secrets.token_hex(16), secrets.token_hex(8)).json()
    read = httpx.get(f"{stack.api_url}/orders/{created['id']}", timeout=10)
    assert read.status_code == 200
    assert read.json() == created


def test_invalid_order_input_is_refused_with_422_naming_the_field(stack: Stack) -> None:
    response = httpx.post(f"{stack.api_url}/orders", json={"sku": "SKU-1", "quantity": 0}, timeout=10)
    assert response.status_code == 422
    assert ["body", "quantity"] in [error["loc"] for error in response.json()["detail"]]


@pytest.mark.parametrize(
    ("body", "headers", "status", "detail"),
    [
        (b'{"event_id": 12}\n', {}, 400, "envelope header event_id is not a string"),
        (b"{}\n{not json}\n", {}, 400, "item 0 header is not valid JSON"),
        (b"\x1f\x8b\x08garbage", {"content-encoding": "gzip"}, 400, "gzip body cannot be decoded"),
    ],
)
def test_relay_refuses_bad_envelopes_with_json_naming_the_problem(
    stack: Stack, body: bytes, headers: dict[str, str], status: int, detail: str
) -> None:
    auth = {"x-sentry-auth": f"Sentry sentry_key={API.key}, sentry_version=7"}
    response = httpx.post(f"{stack.relay_url}/api/1/envelope/", content=body, headers={**auth, **headers})
    assert response.status_code == status
    assert response.json()["detail"] == detail
    assert httpx.get(f"{stack.relay_url}/api/relay/healthcheck/ready/").status_code == 200


def test_relay_refuses_an_unknown_project_and_keeps_serving(stack: Stack) -> None:
    response = httpx.post(
        f"{stack.relay_url}/api/999/envelope/", content=b"{}\n", headers={"x-sentry-auth": "Sentry sentry_key=x"}
    )
    assert response.status_code == 403
    assert response.json()["detail"] == "unknown project 999"
    assert httpx.get(f"{stack.relay_url}/api/relay/healthcheck/ready/").status_code == 200


def test_stored_envelopes_survive_a_relay_mock_restart(stack: Stack, relay: StackRelay) -> None:
    trace_id = secrets.token_hex(16)
    assert _order(stack, trace_id, secrets.token_hex(8)).status_code == 201
    before = relay.wait_for_transactions(trace_id, {"api", "downstream"})
    ids = sorted(envelope["id"] for pairs in before.values() for envelope, _ in pairs)

    stack.compose("restart", "relay-mock")
    stack.wait_healthy(f"{stack.relay_url}/api/relay/healthcheck/ready/")

    after = relay.transactions_by_project(trace_id)
    assert sorted(envelope["id"] for pairs in after.values() for envelope, _ in pairs) == ids
    raw = relay.raw(ids[0])
    assert raw.startswith(b"{") and b'"type":"transaction"' in raw
