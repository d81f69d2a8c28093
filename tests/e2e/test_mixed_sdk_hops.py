"""Traces that cross a hop between sentry-python 2 and 3: api and downstream built with
API_SENTRY_SDK / DOWNSTREAM_SENTRY_SDK (2 → 3, 3 → 2, 3 → 3), a Locust burst, and the verifier
proving every sampled trace crossed intact. A 2.x service sends transactions, a 3.x one segment
spans; each service's envelopes name the SDK it runs."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from tests.support.relay import StackRelay
from tests.support.stack import Stack

pytestmark = [pytest.mark.stack, pytest.mark.slow]

HOPS = [("2", "3"), ("3", "2"), ("3", "3")]


@pytest.fixture(params=HOPS, ids=[f"api{a}-downstream{d}" for a, d in HOPS])
def majors(request: pytest.FixtureRequest, stack: Stack) -> Iterator[tuple[str, str]]:
    api, downstream = request.param
    with stack.reconfigured("api", "downstream", API_SENTRY_SDK=api, DOWNSTREAM_SENTRY_SDK=downstream):
        yield api, downstream


def _sdk_majors(relay: StackRelay, project: int, since: float) -> set[str]:
    """The SDKs a project's envelopes named since `since`, as `name/major` ("sentry.python/3")."""
    page = relay.client.envelopes(project=project, since=since, limit=200, payloads=False)
    named = set()
    for envelope in page.envelopes:
        name, _, version = (envelope.request.sdk_client or "?").partition("/")
        named.add(f"{name}/{version.partition('.')[0]}")
    return named


def test_a_locust_burst_across_a_mixed_hop_is_verified(
    stack: Stack, relay: StackRelay, majors: tuple[str, str]
) -> None:
    since = time.time()
    burst = stack.run(
        "locust", "--headless", "-u", "8", "-r", "8", "-t", "15s", "--host", "http://api:8000", "--only-summary"
    )
    assert burst.returncode == 0, burst.stdout[-3000:] + burst.stderr[-3000:]
    expectations = [e.model_dump(exclude_unset=True) for e in relay.client.expectations(since=since, limit=100000)]
    assert len(expectations) >= 30, "Locust recorded too few traces to mean anything"

    result = stack.run(
        "relay-mock",
        "--url",
        "http://relay-mock:9000",
        "verify",
        "--since",
        str(since),
        "--deadline",
        "30",
        "--json",
        "/dev/stdout",
    )
    output = result.stdout + result.stderr
    table, _, rest = output.partition("\n{")
    assert result.returncode == 0, f"api {majors[0]} → downstream {majors[1]}:\n{table}"
    report = json.loads("{" + rest[: rest.rindex("}") + 1])
    sampled = {e["trace_id"] for e in expectations if e["sampled"]}
    verdicts = {t["trace_id"]: t["verdict"] for t in report["traces"]}
    assert {verdicts[trace_id] for trace_id in sampled} == {"verified"}
    assert report["failures"] == 0 and report["verdicts"]["unverified"] == 0

    # Each service's envelopes name the major it was built with (X-Sentry-Auth's sentry_client).
    api, downstream = majors
    assert _sdk_majors(relay, 1, since) == {f"sentry.python/{api}"}
    assert _sdk_majors(relay, 2, since) == {f"sentry.python/{downstream}"}
