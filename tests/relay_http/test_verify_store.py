"""The verifier over a real relay-mock: refusals record what they refused (and explain only
that), streamed span segments are verified like transactions, and an expectations file
travels with the request."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import httpx

from tests.relay_http.inspector import Inspector
from tests.support.projects import API, DOWNSTREAM
from tests.support.relay_server import RelayMock

API_AUTH = {"x-sentry-auth": f"Sentry sentry_key={API.key}, sentry_version=7"}


def _envelope(header: dict[str, Any], *items: tuple[str, dict[str, Any]]) -> bytes:
    lines = [json.dumps(header).encode()]
    for item_type, payload in items:
        body = json.dumps(payload).encode()
        lines += [json.dumps({"type": item_type, "length": len(body)}).encode(), body]
    return b"\n".join(lines) + b"\n"


def _transaction(trace_id: str, started: float, *, spans: list[dict[str, Any]] | None = None) -> bytes:
    event = {
        "type": "transaction",
        "event_id": secrets.token_hex(16),
        "transaction": "/orders",
        "start_timestamp": started,
        "timestamp": started + 0.2,
        "contexts": {"trace": {"trace_id": trace_id, "span_id": secrets.token_hex(8), "op": "http.server"}},
        "spans": spans or [],
    }
    return _envelope({"event_id": event["event_id"], "trace": {"trace_id": trace_id}}, ("transaction", event))


def _verify(relay: RelayMock, since: float, expect: dict[str, Any] | None = None) -> dict[str, Any]:
    with Inspector(relay.url) as inspector:
        return inspector.verify(since=since, topology=expect)


def _expect(relay: RelayMock, trace_id: str, started: float, services: list[str]) -> None:
    entry = {"trace_id": trace_id, "scenario": "crafted", "started_at": started, "expect_services": services}
    with Inspector(relay.url) as inspector:
        inspector.expect(entry)


def test_a_refusal_records_the_item_types_it_refused_or_none_when_unparseable(
    relay: RelayMock, inspector: Inspector
) -> None:
    inspector.clear()
    inspector.add_fault(action="status", status=503, count=2)
    trace_id = secrets.token_hex(16)

    refused = httpx.post(
        f"{relay.url}/api/1/envelope/", content=_transaction(trace_id, time.time()), headers=API_AUTH, timeout=10
    )
    garbage = httpx.post(f"{relay.url}/api/1/envelope/", content=b"not an envelope", headers=API_AUTH, timeout=10)

    assert (refused.status_code, garbage.status_code) == (503, 503)
    recorded = sorted((r["item_types"] for r in inspector.wait_refusals(2)), key=str)
    assert recorded == [None, '["transaction"]']


def test_a_lost_transaction_is_unverified_only_by_a_refusal_of_a_transaction(
    relay: RelayMock, inspector: Inspector
) -> None:
    inspector.clear()
    started = time.time()
    trace_id = secrets.token_hex(16)
    _expect(relay, trace_id, started, ["api"])
    inspector.add_fault(action="status", status=503, count=1)
    httpx.post(f"{relay.url}/api/1/envelope/", content=b"not an envelope", headers=API_AUTH, timeout=10)
    inspector.wait_refusals(1)  # refusals are written behind the answer

    report = _verify(relay, started - 1)

    assert {t["trace_id"]: t["verdict"] for t in report["traces"]} == {trace_id: "failed"}

    inspector.add_fault(action="status", status=503, count=1)
    httpx.post(f"{relay.url}/api/1/envelope/", content=_transaction(secrets.token_hex(16), started), headers=API_AUTH)

    report = _verify(relay, started - 1)

    verdicts = {t["trace_id"]: (t["verdict"], t["causes"]) for t in report["traces"]}
    assert verdicts[trace_id][0] == "unverified" and verdicts[trace_id][1][0].startswith("relay:")


def test_a_streamed_segment_answers_the_call_that_caused_it(relay: RelayMock, inspector: Inspector) -> None:
    inspector.clear()
    started = time.time()
    trace_id, call_span = secrets.token_hex(16), secrets.token_hex(8)
    call = {
        "span_id": call_span,
        "parent_span_id": secrets.token_hex(8),
        "op": "http.client",
        "description": "POST http://downstream:8001/reservations",
        "start_timestamp": started + 0.05,
        "timestamp": started + 0.15,
        "status": "ok",
    }
    segment = {
        "trace_id": trace_id,
        "span_id": secrets.token_hex(8),
        "parent_span_id": call_span,
        "name": "POST /reservations",
        "start_timestamp": started + 0.06,
        "end_timestamp": started + 0.14,
        "is_segment": True,
        "status": "ok",
        "attributes": {"sentry.op": {"type": "string", "value": "http.server"}},
    }
    streamed = _envelope({"trace": {"trace_id": trace_id}}, ("span", {"items": [segment]}))
    downstream_auth = {"x-sentry-auth": f"Sentry sentry_key={DOWNSTREAM.key}, sentry_version=7"}
    httpx.post(
        f"{relay.url}/api/1/envelope/", content=_transaction(trace_id, started, spans=[call]), headers=API_AUTH
    ).raise_for_status()

    missing = _verify(relay, started - 1)
    httpx.post(f"{relay.url}/api/2/envelope/", content=streamed, headers=downstream_auth).raise_for_status()
    answered = _verify(relay, started - 1)

    assert [(f["kind"], f["service"]) for f in missing["findings"]] == [("missing_transaction", "downstream")]
    assert answered["findings"] == [] and answered["verdicts"]["verified"] == 1


def test_an_expectations_file_adds_its_rules_and_a_bad_one_is_refused_naming_the_key(
    relay: RelayMock, inspector: Inspector
) -> None:
    inspector.clear()
    started = time.time()
    trace_id = secrets.token_hex(16)
    httpx.post(
        f"{relay.url}/api/1/envelope/", content=_transaction(trace_id, started), headers=API_AUTH
    ).raise_for_status()
    rule = {"required_ops": [{"service": "api", "transaction": "/orders", "op_prefix": "db"}]}

    plain = _verify(relay, started - 1)
    with_rule = _verify(relay, started - 1, rule)
    # Raw, as the client would not send it: an expectations file the verifier must refuse.
    bad = httpx.post(f"{relay.url}/inspect/verify", json={"expect": {"required_ops": [{"service": "api"}]}}, timeout=10)

    assert plain["findings"] == []
    assert [f["kind"] for f in with_rule["findings"]] == ["missing_db_span"]
    assert bad.status_code == 400
    assert bad.json() == {
        "detail": "invalid expectations",
        "causes": ["required_ops[0].op_prefix: required"],
    }
