"""The chaos tests' own checks must fail for a service whose SDK is switched off: it keeps
serving through every break (nothing of it waits for Sentry), so surviving proves nothing; what
its SDK reports about the break is what the chaos tests hold it to."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.test_chaos import (
    _books_balance,
    _recovered_from_the_restart,
    _sdk_reported_the_break,
    _sdks_reported_the_outage,
)

# What scripts/chaos.py reports for relay-down with SENTRY_ENABLED=false in the services:
# requests served, nothing stored, nothing reported.
SDK_OFF: dict[str, Any] = {
    "reasons": ["network_error", "queue_overflow", "backpressure"],
    "api_requests": 1100,
    "api_transactions_stored": 0,
    "api_transactions_dropped": 0,
    "api_dropped_by_reason": {},
    "reported_until_settled": 0,
    "reported_after_settled": 0,
    "api_requests_after_reported": 330,
    # Locust's record of the requests after the heal: none of their transactions arrived, no loss reported.
    "after_heal": {"requests": 331, "arrived": 0, "reported": 0, "not_owed": 0, "unaccounted": 331},
}
# A real relay-down run (trimmed): the SDK reported the break and its books balance.
SDK_ON: dict[str, Any] = {
    **SDK_OFF,
    "api_transactions_stored": 809,
    "api_transactions_dropped": 297,
    "reported_until_settled": 297,
    "after_heal": {"requests": 331, "arrived": 318, "reported": 13, "not_owed": 0, "unaccounted": 0},
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
        pytest.param(
            {"after_heal": {**SDK_ON["after_heal"], "arrived": 0, "reported": 331}}, id="nothing-arrives-after-the-heal"
        ),
        pytest.param(
            {"after_heal": {**SDK_ON["after_heal"], "arrived": 317, "unaccounted": 1}}, id="one-request-unaccounted"
        ),
        pytest.param(
            {"after_heal": {**SDK_ON["after_heal"], "requests": 0, "arrived": 0, "reported": 0}},
            id="locust-recorded-nothing",
        ),
        pytest.param(
            {"api_requests_after_reported": 2, "after_heal": {**SDK_ON["after_heal"], "requests": 2, "arrived": 2}},
            id="too-few-requests-after-the-heal-to-tell",
        ),
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


# What scripts/chaos.py reports for db-restart (trimmed): Postgres back 2.1 s after the restart
# began, recovery 0 s after that, api's SDK reported the failures.
DB_RESTART: dict[str, Any] = {
    "window": {"back": 1_700_000_012.1},
    "recovery_s": 0.0,
    "database": {
        "postgres_back_at": 1_700_000_012.1,
        "failed_requests": 40,
        "error_events": {
            "by_type": {"api": {"ConnectionRefusedError": 25}, "downstream": {"CannotConnectNowError": 5}},
            "by_transaction": {"api": {"/orders": 25}, "downstream": {"/inventory/reserve": 5}},
            "reported_twice": [],
        },
    },
}


def _events(by_type: dict[str, Any], reported_twice: list[str] | None = None) -> dict[str, Any]:
    return {"error_events": {"by_type": by_type, "by_transaction": {}, "reported_twice": reported_twice or []}}


def test_a_db_restart_with_the_sdks_reporting_passes() -> None:
    _recovered_from_the_restart(DB_RESTART)
    _sdks_reported_the_outage(DB_RESTART["database"])


@pytest.mark.parametrize(
    "database",
    [
        pytest.param(_events({}), id="sdk-switched-off"),
        pytest.param(_events({"downstream": {"CannotConnectNowError": 5}}), id="api-reported-nothing"),
        pytest.param({"failed_requests": 0}, id="nobody-saw-the-outage"),
        pytest.param(
            _events({"api": {"ConnectionRefusedError": 26}}, ["api 4bf92f3577b34da6a3ce929d0e0e4736 x2"]),
            id="one-request-reported-twice",
        ),
    ],
)
def test_the_outage_checks_reject(database: dict[str, Any]) -> None:
    with pytest.raises(AssertionError):
        _sdks_reported_the_outage({**DB_RESTART["database"], **database})


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"database": {**DB_RESTART["database"], "postgres_back_at": None}}, id="postgres-never-back"),
        # Timed from the end of the broken phase, as chaos.py did before: not the moment Postgres was back.
        pytest.param({"window": {"back": None}}, id="timed-from-the-phase-end"),
        pytest.param({"recovery_s": None}, id="never-recovered"),
        pytest.param({"recovery_s": 20.0}, id="recovered-too-late"),
    ],
)
def test_the_recovery_checks_reject(change: dict[str, Any]) -> None:
    with pytest.raises(AssertionError):
        _recovered_from_the_restart({**DB_RESTART, **change})
