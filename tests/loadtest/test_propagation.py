"""LOCUST_PROPAGATION: how Locust, at the head of each trace, hands the context on (`sentry`:
sentry-trace + baggage; `w3c`: traceparent + tracestate only; `both`); a bad value stops Locust
naming the variable; the expectation records what was sent, and the witnesses keep their
traceparent and trace_id."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from scenarios.ground_truth import WITNESS_HEADER, witnesses
from scenarios.tracing import StartedTrace
from tests.support.stack import ROOT

TRACE = StartedTrace(trace_id="ab" * 16, span_id="cd" * 8, sampled=True, sample_rand=0.25, sample_rate=1.0)


def test_sentry_sends_sentry_trace_and_baggage_only() -> None:
    headers = TRACE.headers("sentry")
    assert set(headers) == {"sentry-trace", "baggage"}
    assert headers["sentry-trace"] == f"{'ab' * 16}-{'cd' * 8}-1"
    assert f"sentry-trace_id={'ab' * 16}" in headers["baggage"]


def test_w3c_sends_traceparent_and_tracestate_only() -> None:
    headers = TRACE.headers("w3c")
    assert set(headers) == {"traceparent", "tracestate"}
    assert headers["traceparent"] == f"00-{'ab' * 16}-{'cd' * 8}-01"
    unsampled = StartedTrace(trace_id="ab" * 16, span_id="cd" * 8, sampled=False, sample_rand=0.9, sample_rate=0.5)
    assert unsampled.headers("w3c")["traceparent"].endswith("-00")


def test_both_sends_the_same_context_in_both_formats() -> None:
    headers = TRACE.headers("both")
    assert set(headers) == {"sentry-trace", "baggage", "traceparent", "tracestate"}
    assert headers["traceparent"].split("-")[1:3] == headers["sentry-trace"].split("-")[:2]


@pytest.mark.parametrize("value", ["otel", "W3C", "sentry,w3c"])
def test_a_bad_value_stops_locust_naming_the_variable(value: str) -> None:
    env = {**os.environ, "LOCUST_PROPAGATION": value, "PYTHONPATH": str(ROOT / "loadtest")}
    result = subprocess.run(
        [sys.executable, "-c", "import scenarios.config"], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "LOCUST_PROPAGATION" in result.stderr and repr(value) in result.stderr, result.stderr


def test_the_expectation_records_the_propagation_and_each_witness_keeps_its_new_keys(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scenarios import config, ground_truth

    monkeypatch.setattr(config, "PROPAGATION", "w3c")
    recorder = ground_truth.GroundTruth("http://127.0.0.1:9")
    monkeypatch.setattr(recorder, "_flusher", object())  # no background flushing in this test
    entries = [
        {
            "service": "api",
            "received": "",
            "sampled": True,
            "traceparent": TRACE.headers("w3c")["traceparent"],
            "trace_id": "ef" * 16,
        },
        {
            "service": "downstream",
            "received": f"{'ef' * 16}-{'12' * 8}-1",
            "sampled": True,
            "traceparent": "",
            "trace_id": "ef" * 16,
        },
    ]
    recorder.record(TRACE, "orders", status_code=201, outcome="ok", headers={WITNESS_HEADER: json.dumps(entries)})

    (entry,) = recorder._pending
    assert entry["propagation"] == "w3c"
    assert entry["baggage"] is None  # nothing of Sentry's was sent
    assert entry["witnesses"] == entries
    assert witnesses({WITNESS_HEADER: json.dumps([{"service": "x", "received": ""}])}) == [
        {"service": "x", "received": "", "sampled": None}
    ]
