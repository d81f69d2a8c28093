"""The correlation check through /inspect/verify, over what relay-mock stored: a request's log that
names another trace, or no span, fails the report; logs of the request's trace and spans pass.
Requests are tied to their records by the `request_id` the services put on both."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from tests.relay_http.inspector import Inspector
from tests.relay_http.test_mcp import PROTOCOL, McpClient
from tests.relay_http.wire import API, DOWNSTREAM, Project, envelope, item, new_id, post_envelope, transaction
from tests.support.relay_server import RelayMock


def _typed(value: str) -> dict[str, str]:
    return {"value": value, "type": "string"}


def _serve(http: httpx.Client, relay: RelayMock, project: Project, request_id: str, *logs: dict[str, Any]) -> None:
    """A request's transaction (tagged with its request id) and its logs, in the transaction's span
    unless a log says otherwise (`span_id: None` leaves the span id out)."""
    trace_id = logs[0]["trace_id"]
    tx = transaction(trace_id, "/orders", tags={"request_id": request_id})
    records = [{"span_id": tx["contexts"]["trace"]["span_id"], **log} for log in logs]
    records = [{k: v for k, v in r.items() if not (k == "span_id" and v is None)} for r in records]
    container = {"version": 2, "items": records}
    for body in (
        envelope(item("transaction", tx), event_id=tx["event_id"], trace={"trace_id": trace_id}),
        envelope(item("log", container, item_count=len(records))),
    ):
        assert post_envelope(http, relay.url, body, project=project).status_code == 200


def _log(trace_id: str, request_id: str, **fields: Any) -> dict[str, Any]:
    attributes = {"request_id": _typed(request_id)}
    return {
        "timestamp": time.time(),
        "level": "info",
        "body": "order placed",
        "trace_id": trace_id,
        "attributes": attributes,
        **fields,
    }


def _report(relay: RelayMock, since: float) -> dict[str, Any]:
    with Inspector(relay.url) as inspector:
        return inspector.verify(since=since)


@pytest.fixture
def fresh(start_relay: Any) -> RelayMock:
    return start_relay()  # type: ignore[no-any-return]


def test_logs_of_both_services_in_their_requests_trace_pass(fresh: RelayMock, http: httpx.Client) -> None:
    since, trace_id = time.time() - 1, new_id()
    _serve(http, fresh, API, "r-api", _log(trace_id, "r-api"))
    _serve(http, fresh, DOWNSTREAM, "r-down", _log(trace_id, "r-down"))

    report = _report(fresh, since)

    assert report["checks"]["correlation"] == {"passed": 1, "failed": 0}
    assert [f for f in report["findings"] if f["check"] == "correlation"] == []


@pytest.mark.parametrize(
    ("fields", "kind"),
    [
        pytest.param({"trace_id": "f" * 32, "span_id": None}, "foreign_trace_id", id="foreign-trace"),
        pytest.param({"span_id": None}, "missing_span_id", id="no-span"),
        pytest.param({"span_id": "9" * 16}, "unknown_span_id", id="span-of-no-trace"),
    ],
)
def test_a_request_log_that_cannot_be_placed_in_its_trace_fails_the_report(
    fresh: RelayMock, http: httpx.Client, fields: dict[str, Any], kind: str
) -> None:
    since, trace_id = time.time() - 1, new_id()
    good = _log(trace_id, "r-1")
    bad = {**_log(trace_id, "r-1", body="stock short"), **fields}
    _serve(http, fresh, API, "r-1", good, bad)

    report = _report(fresh, since)

    (finding,) = [f for f in report["findings"] if f["check"] == "correlation"]
    assert (finding["kind"], finding["trace_id"], finding["service"]) == (kind, trace_id, "api")
    assert report["ok"] is False


def test_mcp_verify_traces_answers_the_report_of_inspect_verify_correlation_included(
    fresh: RelayMock, http: httpx.Client
) -> None:
    """One orchestration of the verifier (relay_mock/verify/run.py): MCP's tool ran collect and the
    checks on its own, without the correlation check, so this request's stray log passed there."""
    since, trace_id = time.time() - 1, new_id()
    stray = {**_log(trace_id, "r-1"), "trace_id": "f" * 32, "span_id": None}
    _serve(http, fresh, API, "r-1", _log(trace_id, "r-1"), stray)
    answer = http.get(f"{fresh.url}/inspect/verify", params={"since": since})
    assert answer.status_code == 200, answer.text
    over_http = answer.json()["report"]
    mcp = McpClient(fresh.url)
    try:
        hello = {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
        mcp.request("initialize", hello)
        mcp.http.headers["MCP-Protocol-Version"] = PROTOCOL
        tool = mcp.call("verify_traces", since_s=3600)
    finally:
        mcp.close()

    assert [f["kind"] for f in over_http["findings"] if f["check"] == "correlation"] == ["foreign_trace_id"]
    assert tool["isError"] is False
    assert tool["structuredContent"] == over_http
