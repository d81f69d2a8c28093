"""Locust drives the real stack, and the verifier proves every trace it started crossed the
hop intact; with propagation switched off in api, the same check fails and names linkage."""

from __future__ import annotations

import json
import secrets
import time

import httpx
import pytest

from tests.support.relay import StackRelay
from tests.support.stack import Stack

pytestmark = pytest.mark.stack


def _verify(stack: Stack, since: float, *extra: str) -> tuple[int, str]:
    """`relay-mock verify` from its image, as `make verify-traces` runs it."""
    result = stack.run(
        "relay-mock", "--url", "http://relay-mock:9000", "verify", "--since", str(since), "--deadline", "30", *extra
    )
    return result.returncode, result.stdout + result.stderr


def test_a_locust_burst_is_verified_complete_and_linked(stack: Stack, relay: StackRelay, lifecycle: str) -> None:
    # In both lifecycles: with SENTRY_TRACE_LIFECYCLE=stream segment spans stand for transactions.
    since = time.time()
    burst = stack.run(
        "locust", "--headless", "-u", "8", "-r", "8", "-t", "20s", "--host", "http://api:8000", "--only-summary"
    )
    assert burst.returncode == 0, burst.stdout[-3000:] + burst.stderr[-3000:]

    recorded = {
        "expectations": [e.model_dump(exclude_unset=True) for e in relay.client.expectations(since=since, limit=100000)]
    }
    assert len(recorded["expectations"]) >= 50, "Locust recorded too few traces to mean anything"
    scenarios = {e["scenario"] for e in recorded["expectations"]}
    assert {"orders", "downstream_error", "business_error"} <= scenarios

    code, output = _verify(stack, since, "--json", "/dev/stdout")
    table, _, rest = output.partition("\n{")
    assert code == 0, f"{lifecycle}:\n{table}"
    report = json.loads("{" + rest[: rest.rindex("}") + 1])
    assert report["failures"] == 0
    assert report["expected_traces"] == len(recorded["expectations"])
    assert report["complete"] == report["sampled_expected"]
    # Every sampled expected trace verified, none unverified (MAX_UNVERIFIED defaults to 0).
    sampled = {e["trace_id"] for e in recorded["expectations"] if e["sampled"]}
    verdicts = {t["trace_id"]: t["verdict"] for t in report["traces"]}
    assert {verdicts[trace_id] for trace_id in sampled} == {"verified"}
    assert report["verdicts"]["unverified"] == 0 and report["outcome"] == "PASSED"
    # Locust recorded, with each expectation, what the services said they received.
    witnessed = [e for e in recorded["expectations"] if e.get("witnesses")]
    assert len(witnessed) >= len(recorded["expectations"]) * 0.9, "most requests carry a witness"


def test_verify_traces_fails_naming_linkage_when_api_stops_propagating(stack: Stack, relay: StackRelay) -> None:
    with stack.reconfigured("api", API_SENTRY_PROPAGATE_TRACES="false"):
        since = time.time()
        expectations = []
        for _ in range(3):
            trace_id = secrets.token_hex(16)
            response = httpx.post(
                f"{stack.api_url}/orders",
                json={"sku": "SKU-1", "quantity": 1},
                headers={"sentry-trace": f"{trace_id}-{secrets.token_hex(8)}-1"},
                timeout=10,
            )
            assert response.status_code == 201
            expectations.append({"trace_id": trace_id, "scenario": "propagation_off", "started_at": since})
        relay.client.record_expectations(expectations)

        code, output = _verify(stack, since)

    assert code != 0, output
    assert "linkage" in output and "propagation_lost" in output, output[-6000:]
