"""The chaos tests' own checks must fail for a service whose SDK is switched off: it keeps
serving through every break (nothing of it waits for Sentry), so surviving proves nothing; what
its SDK reports about the break is what the chaos tests hold it to."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_chaos import _books_balance, _sdk_reported_the_break

# What scripts/chaos.py reports for relay-down with SENTRY_ENABLED=false in the services:
# requests served, nothing stored, nothing reported.
SDK_OFF = {
    "reasons": ["network_error", "queue_overflow", "backpressure"],
    "api_requests": 1100,
    "api_transactions_stored": 0,
    "api_transactions_dropped": 0,
    "api_dropped_by_reason": {},
    "reported_until_settled": 0,
    "reported_after_settled": 0,
    "api_requests_after_settled": 330,
    "api_transactions_stored_after_settled": 0,
}
# A real relay-down run (trimmed): the SDK reported the break and its books balance.
SDK_ON = {
    **SDK_OFF,
    "api_transactions_stored": 809,
    "api_transactions_dropped": 297,
    "reported_until_settled": 297,
    "api_transactions_stored_after_settled": 403,
}


def test_a_run_with_the_sdk_reporting_passes() -> None:
    _sdk_reported_the_break({"sdk_evidence": SDK_ON})


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({}, id="sdk-switched-off"),
        pytest.param({"reported_until_settled": 0}, id="break-not-reported"),
        pytest.param({"reported_until_settled": 5000}, id="more-reported-than-sent"),
        pytest.param({"reported_after_settled": 4}, id="still-dropping-after-the-heal"),
        pytest.param({"api_transactions_stored_after_settled": 10}, id="nothing-arrives-after-the-heal"),
        pytest.param({"api_transactions_dropped": 200}, id="books-do-not-balance"),
    ],
)
def test_the_checks_reject(change: dict[str, Any]) -> None:
    evidence = {**(SDK_ON if change else SDK_OFF), **change}
    with pytest.raises(AssertionError):
        _sdk_reported_the_break({"sdk_evidence": evidence})


def test_the_books_reject_an_sdk_that_sends_nothing() -> None:
    with pytest.raises(AssertionError):
        _books_balance(SDK_OFF)
