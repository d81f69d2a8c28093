"""The Sentry test endpoints on the running stack, checked on what relay-mock received:
/test-error, /test-message, /test-performance, scrubbing of secrets, and their absence
in production."""

from __future__ import annotations

import secrets
import time

import httpx
import pytest

from tests.support.relay import StackRelay
from tests.support.services import running_service, service_env
from tests.support.stack import Stack
from tests.support.traffic import new_trace, settle, spans_by_op

pytestmark = pytest.mark.stack

SERVICES = ["api", "downstream"]


def _url(stack: Stack, service: str) -> str:
    return stack.api_url if service == "api" else stack.downstream_url


@pytest.mark.parametrize("service", SERVICES)
def test_test_error_answers_500_and_reports_exactly_one_event_tagged_with_its_id(
    stack: Stack, relay: StackRelay, service: str
) -> None:
    trace_id, trace = new_trace()

    response = httpx.get(f"{_url(stack, service)}/test-error", headers=trace, timeout=10)

    assert response.status_code == 500
    body = response.json()
    relay.wait("event", trace_id=trace_id)
    settle(stack, relay)
    errors = relay.errors(trace_id=trace_id)
    assert [(e["project"], e["event_id"], e["tags"].get("test_error_id")) for e in errors] == [
        (service, body["event_id"], body["test_error_id"])
    ]
    assert errors[0]["type"] == "SentryTestError"


@pytest.mark.parametrize("level", ["warning", "fatal"])
def test_test_message_reports_the_message_at_the_requested_level(stack: Stack, relay: StackRelay, level: str) -> None:
    text = f"hello sentry {secrets.token_hex(4)}"

    response = httpx.get(f"{stack.api_url}/test-message", params={"level": level, "message": text}, timeout=10)

    assert response.status_code == 200
    body = response.json()
    relay.wait("event", event_id=body["event_id"])
    error = relay.error(body["event_id"])
    assert (error["level"], error["message"]) == (level, text)
    assert error["tags"]["test_message_id"] == body["test_message_id"]


def test_test_performance_builds_the_documented_span_tree_across_both_services(stack: Stack, relay: StackRelay) -> None:
    trace_id, trace = new_trace()

    response = httpx.get(f"{stack.api_url}/test-performance", headers=trace, timeout=10)

    assert response.status_code == 200
    assert response.json()["peer_status"] == 200
    found = relay.wait_for_transactions(trace_id, {"api", "downstream"})
    (_, api_tx), (_, down_tx) = found["api"][0], found["downstream"][0]
    root = api_tx["payload"]["contexts"]["trace"]["span_id"]
    ops = spans_by_op(api_tx["payload"])
    (performance,) = ops["test.performance"]
    (db_work,) = ops["db.work"]
    (peer,) = ops["peer.call"]
    (process,) = ops["process"]
    assert performance["parent_span_id"] == root
    assert {db_work["parent_span_id"], peer["parent_span_id"], process["parent_span_id"]} == {performance["span_id"]}
    assert [s["parent_span_id"] for s in ops["db"]] == [db_work["span_id"]]
    assert [s["parent_span_id"] for s in ops["process.step"]] == [process["span_id"]] * 3
    (call,) = ops["http.client"]
    assert call["parent_span_id"] == peer["span_id"]
    assert down_tx["payload"]["contexts"]["trace"]["parent_span_id"] == call["span_id"]


@pytest.mark.parametrize(
    ("service", "path", "fault"),
    [
        pytest.param("api", "/test-error", None, id="caught-exception"),
        pytest.param("api", "/test-message", None, id="message-with-stack-trace"),
        pytest.param("downstream", "/stock/SKU-1", "downstream:error", id="unhandled-exception"),
    ],
)
def test_secrets_in_a_request_never_leave_the_service(
    stack: Stack, relay: StackRelay, service: str, path: str, fault: str | None
) -> None:
    trace_id, trace = new_trace()
    token, bearer, session, api_key = (f"{name}-{secrets.token_hex(8)}" for name in ("tok", "bear", "sess", "key"))
    headers = {
        **trace,
        "authorization": f"Bearer {bearer}",
        "cookie": f"session={session}; theme=dark",
        "x-api-key": api_key,
        **({"x-sandbox-fault": fault} if fault else {}),
    }

    started = time.time()
    httpx.get(f"{_url(stack, service)}{path}", params={"token": token, "page": "2"}, headers=headers, timeout=10)

    relay.wait("event", trace_id=trace_id)
    relay.wait("transaction", trace_id=trace_id)
    (event,) = relay.payloads("event", trace_id=trace_id)
    (transaction,) = relay.payloads("transaction", trace_id=trace_id)
    for payload in (event, transaction):
        request = payload["request"]
        for header in ("authorization", "cookie", "x-api-key"):
            assert request["headers"][header] == "[Filtered]", header
        assert request["query_string"] == "token=%5BFiltered%5D&page=2"
    # Not only the request's own envelopes: sessions, client reports and anything else either
    # service sent meanwhile could carry a copy. Both SDKs send what they hold, then every
    # envelope that arrived since the request is read back byte for byte.
    for url in (stack.api_url, stack.downstream_url):
        httpx.post(f"{url}/test-flush", timeout=15).raise_for_status()
    scanned = relay.envelopes(since=started, limit=1000)
    assert any(trace_id.encode() in relay.raw(e["id"]) for e in scanned), "the request's own envelopes were not scanned"
    assert len(scanned) < 1000, "more envelopes than one page: the scan would miss some"
    for envelope in scanned:
        raw = relay.raw(envelope["id"])
        leaked = [secret for secret in (token, bearer, session, api_key) if secret.encode() in raw]
        assert leaked == [], f"a {envelope['item_types']} envelope from project {envelope['project']} carries {leaked}"


def test_the_test_endpoints_answer_404_in_production(stack: Stack) -> None:
    env = service_env(stack, "api", ENVIRONMENT="production", SESSION_SECRET=secrets.token_hex(16))

    with running_service("api", env) as api:
        answers = {
            path: httpx.get(f"{api.url}{path}", timeout=10).status_code
            for path in ("/test-error", "/test-message", "/test-performance")
        }

    assert answers == {"/test-error": 404, "/test-message": 404, "/test-performance": 404}
