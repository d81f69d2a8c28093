"""Short chaos runs on the real stack (`make chaos` with brief phases): the sandbox keeps
serving while its Sentry ingest is down, slow or rate limiting, recovers from a Postgres
restart by itself, and answers fast and reports once per request while downstream is away.

Surviving is not enough: a service with its SDK switched off would survive too. Each break of
the ingest must also show in what api's SDK reports (its client reports: network_error while
relay-mock is down, ratelimit_backoff under 429, queue_overflow while it is slow), never more
than it sent, stopping once the heal has settled, and api's books must balance: every request
is one transaction either stored in relay-mock or reported dropped. After the heal they balance
request by request: each request's own transaction (by its trace id) arrived, or api's SDK
reported a loss that can be its (scripts/chaos_books.py). A Postgres restart must show in the
services' error events naming the database failure, and recovery is timed from the moment
Postgres is back.

Phases are compared window by window (2-second windows; chaos.py): the median request rate of
the broken phase against the lower of the two unbroken phases, allowing the larger of 5% and
twice the windows' spread (median absolute deviation); the median p95 latency against the higher
of the two, allowing the larger of 1.5x, twice the spread and a small absolute floor (on a
2-core machine a few milliseconds of scheduling noise would otherwise decide a ratio of tiny
numbers).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.stack import ROOT, Stack

pytestmark = [pytest.mark.stack, pytest.mark.slow]

P99_FLOOR_MS = 40.0
# About a second and a half of the tests' load (10 users at 1.5 requests/s); a run usually has
# ten seconds of it after the heal's reports.
MIN_REQUESTS_AFTER_HEAL = 20


def _chaos(
    stack: Stack, scenario: str, tmp_path: Path, *, before: int = 10, during: int = 10, after: int = 15
) -> dict[str, Any]:
    report = tmp_path / f"{scenario}.json"
    result = subprocess.run(
        [sys.executable, "scripts/chaos.py", scenario, "--before", str(before), "--during", str(during),
         "--after", str(after), "--users", "10", "--json", str(report), "--reports", str(tmp_path)],
        cwd=ROOT,
        env={**stack.env, "PYTHONPATH": f"{ROOT}:{ROOT / 'relay-mock'}"},
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-2000:]
    print(result.stdout)
    return dict(json.loads(report.read_text()))


def _keeps_serving(report: dict[str, Any]) -> None:
    before, during, after = (report["phases"][phase]["windows"] for phase in ("before", "during", "after"))
    normal = min(before["rate_median"], after["rate_median"])
    spread = max(before["rate_spread"], after["rate_spread"])
    assert during["rate_median"] >= normal - max(0.05 * normal, 2 * spread), report["phases"]
    usual = max(before["p95_median_ms"], after["p95_median_ms"])
    usual_spread = max(before["p95_spread_ms"], after["p95_spread_ms"])
    assert during["p95_median_ms"] <= max(1.5 * usual, usual + P99_FLOOR_MS, usual + 2 * usual_spread), report["phases"]
    assert report["phases"]["during"]["failures"] == 0, report["phases"]


def _sdk_reported_the_break(report: dict[str, Any]) -> None:
    evidence = report["sdk_evidence"]
    reported = evidence["reported_until_settled"]
    assert 0 < reported <= evidence["api_requests"], evidence
    assert evidence["reported_after_settled"] == 0, evidence
    _every_request_after_the_heal_accounted(evidence)
    _books_balance(evidence)


def _every_request_after_the_heal_accounted(evidence: dict[str, Any]) -> None:
    """Request by request (scripts/chaos_books.py), not envelopes counted in a window: late
    deliveries of earlier requests cannot pass for the requests made after the heal."""
    heal = evidence["after_heal"]
    # Locust's record holds the requests of its log (one that recorded nothing accounts for nothing).
    assert heal["requests"] >= 0.95 * evidence["api_requests_after_reported"], evidence
    # Enough of them to tell: the window starts once the SDKs have reported their drops until the
    # heal settled, and a flush that takes most of the after phase leaves next to nothing to check.
    assert heal["requests"] >= MIN_REQUESTS_AFTER_HEAL, evidence
    # Each of them: its own transaction arrived, or api's SDK reported a loss that can be its.
    assert heal["unaccounted"] == 0, heal
    # Once healed, api's transactions of new requests arrive again.
    assert heal["arrived"] > 0, heal


def _books_balance(evidence: dict[str, Any]) -> None:
    accounted = evidence["api_transactions_stored"] + evidence["api_transactions_dropped"]
    assert abs(accounted - evidence["api_requests"]) <= max(3, 0.02 * evidence["api_requests"]), evidence


def test_api_keeps_serving_while_relay_mock_is_down(stack: Stack, tmp_path: Path) -> None:
    report = _chaos(stack, "relay-down", tmp_path)

    _keeps_serving(report)
    assert report["phases"]["after"]["failures"] == 0
    _sdk_reported_the_break(report)


def test_api_keeps_serving_while_relay_mock_rate_limits_transactions(stack: Stack, tmp_path: Path) -> None:
    report = _chaos(stack, "relay-429", tmp_path)

    _keeps_serving(report)
    refused = report["sdk_drops_and_refusals"]
    assert refused.get("relay-mock refused: injected_rate_limit", 0) > 0, refused
    _sdk_reported_the_break(report)


def test_api_keeps_serving_while_relay_mock_is_slow(stack: Stack, tmp_path: Path) -> None:
    report = _chaos(stack, "relay-slow", tmp_path)

    _keeps_serving(report)
    _sdk_reported_the_break(report)


def _recovered_from_the_restart(report: dict[str, Any]) -> None:
    """Timed from the moment Postgres accepted connections again (chaos.py probes it with
    pg_isready once `compose restart db` returns), not from the end of the broken phase."""
    database = report["database"]
    assert database["postgres_back_at"] is not None, database
    assert report["window"]["back"] == database["postgres_back_at"], report["window"]
    assert report["recovery_s"] is not None, report
    assert report["recovery_s"] < 15, report


def _sdks_reported_the_outage(database: dict[str, Any]) -> None:
    """Users saw the outage, and api's SDK told Sentry what failed: error events naming the
    database failure, captured between the restart and the recovery; no request reported twice
    by one service (its trace carries one such event per service at most).

    Not compared: the number of events against the number of failed requests. The two are
    timed by different clocks (the SDK's capture inside the service, Locust's answer outside
    it), so a request failing at the window's edge falls on one side for one and the other side
    for the other (CI saw 6 events for 5 failed requests)."""
    assert database["failed_requests"] > 0, database
    events = database["error_events"]
    assert sum(events["by_type"].get("api", {}).values()) > 0, database
    assert events["reported_twice"] == [], database


def test_both_services_recover_from_a_postgres_restart_on_their_own(stack: Stack, tmp_path: Path) -> None:
    report = _chaos(stack, "db-restart", tmp_path)

    _recovered_from_the_restart(report)
    _sdks_reported_the_outage(report["database"])


def test_api_answers_fast_and_reports_once_per_request_while_downstream_is_down(stack: Stack, tmp_path: Path) -> None:
    report = _chaos(stack, "downstream-down", tmp_path)

    unavailable = report["unavailable"]
    assert unavailable["responses_503"] > 0, report
    # Bounded by the 1 s connect timeout (or two refused connects and the pause between them), not by the 2 s call
    # timeout, and nothing piles up: a little slack for the machine.
    assert unavailable["p99_ms_503"] < 1500, report
    assert unavailable["error_events"] == unavailable["responses_503"], report
    assert report["recovery_s"] is not None, report
