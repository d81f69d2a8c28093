"""A trace whose spans were streamed (sentry-python with trace_lifecycle="stream") is verified
exactly like one sent as transactions: the same hop passes, and the same crafted fault (the
downstream side continuing a span the caller never sent) fails with the same finding."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.relay_http.inspector import Inspector
from tests.relay_http.sdk import run_sdk
from tests.relay_http.wire import API, DOWNSTREAM
from tests.support.relay_server import RelayMock


def _hop(relay: RelayMock, inspector: Inspector, *, stream: bool, orphan: bool = False) -> dict[str, Any]:
    started = time.time()
    sent = run_sdk(API.dsn(relay.url), "head", downstream_dsn=DOWNSTREAM.dsn(relay.url), stream=stream, orphan=orphan)
    kind = "span" if stream else "transaction"
    inspector.wait(kind, count=2, trace_id=sent["trace_id"])
    expectation = {"trace_id": sent["trace_id"], "scenario": "orders", "started_at": started, "sampled": True}
    inspector.expect(expectation)
    return sent


def _verify(relay: RelayMock, trace_id: str) -> dict[str, Any]:
    with Inspector(relay.url) as inspector:
        return inspector.verify(trace_id=trace_id)


@pytest.mark.parametrize("stream", [False, True], ids=["transactions", "stream"])
def test_an_intact_hop_passes_in_both_lifecycles(relay: RelayMock, inspector: Inspector, stream: bool) -> None:
    sent = _hop(relay, inspector, stream=stream)

    report = _verify(relay, sent["trace_id"])

    assert report["ok"] is True, report["findings"]
    assert (report["expected_traces"], report["complete"], report["failures"]) == (1, 1, 0)
    assert sent["hop"]["parent_span_id"] == sent["http_client_span"]


def test_a_hop_continuing_an_unsent_span_fails_alike_in_both_lifecycles(relay: RelayMock, inspector: Inspector) -> None:
    found = {}
    for stream in (False, True):
        sent = _hop(relay, inspector, stream=stream, orphan=True)
        report = _verify(relay, sent["trace_id"])
        assert report["ok"] is False
        found[stream] = sorted((f["check"], f["kind"], f["service"]) for f in report["findings"])

    assert found[True] == found[False] == [("linkage", "orphan", None)]
