"""api's books after a chaos heal, request by request (scripts/chaos_books.py), fed crafted runs:
what arrives late for earlier requests, or a report that cannot be a request's, must not account
for it. No Docker: the function is pure."""

from __future__ import annotations

import pytest

from scripts.chaos_books import ReportedDrop, SentRequest, account
from tests.e2e.test_chaos import _every_request_after_the_heal_accounted

HEAL = 1000.0


def _trace(n: int) -> str:
    return f"{n:032x}"


def _requests(
    first: int,
    count: int,
    start: float,
    *,
    sampled: bool = True,
    answered: bool = True,
    api_sampled: bool | None = None,
) -> list[SentRequest]:
    """`count` requests, one every 30 ms from `start`, traces numbered from `first`."""
    return [SentRequest(_trace(first + i), start + 0.03 * i, sampled, answered, api_sampled) for i in range(count)]


def test_late_deliveries_of_earlier_requests_do_not_count_for_new_ones() -> None:
    # The run issue 22 names: relay-mock down, its queue delivered after the heal. 403 transactions
    # arrived after it, all of requests made during the outage; none of the 330 made after it.
    before = _requests(0, 700, HEAL - 30)
    after = _requests(10_000, 330, HEAL)
    late = {r.trace_id for r in before[:403]}

    books = account(before + after, late, [], since=HEAL)

    assert (books.requests, books.arrived, books.reported) == (330, 0, 0)
    assert len(books.unaccounted) == 330
    with pytest.raises(AssertionError):
        _every_request_after_the_heal_accounted({"api_requests_after_reported": 330, "after_heal": books.as_dict()})


def test_each_request_after_the_heal_is_its_own_transaction_or_a_reported_loss() -> None:
    after = _requests(0, 30, HEAL)
    arrived = {r.trace_id for r in after[:28]}
    drops = [ReportedDrop(HEAL + 5, "queue_overflow", 2)]

    books = account(after, arrived, drops, since=HEAL)

    assert books.as_dict() | {"unaccounted_examples": []} == {
        "earlier_unaccounted": 0,
        "earlier_unaccounted_started": None,
        "requests": 30,
        "arrived": 28,
        "reported": 2,
        "reported_by_reason": {"queue_overflow": 2},
        "not_owed": 0,
        "unaccounted": 0,
        "unaccounted_examples": [],
    }
    _every_request_after_the_heal_accounted({"api_requests_after_reported": 30, "after_heal": books.as_dict()})


def test_a_unit_explains_one_request_only() -> None:
    lost = _requests(0, 3, HEAL)

    books = account(lost, set(), [ReportedDrop(HEAL + 5, "network_error", 1)], since=HEAL)

    assert books.reported == 1
    assert books.unaccounted == [lost[1].trace_id, lost[2].trace_id]


def test_a_report_received_before_the_request_started_is_not_its() -> None:
    lost = _requests(0, 1, HEAL + 2)

    books = account(lost, set(), [ReportedDrop(HEAL + 1, "queue_overflow", 5)], since=HEAL)

    assert books.reported == 0 and books.unaccounted == [lost[0].trace_id]


def test_earlier_losses_take_the_reports_from_before_the_heal() -> None:
    # Two requests lost during the outage, one unit reported before the heal's point: the older
    # request takes it. A request made after it cannot use a report from before it started.
    outage = _requests(0, 2, HEAL - 5)
    after = _requests(100, 1, HEAL + 1)

    books = account(outage + after, set(), [ReportedDrop(HEAL - 1, "network_error", 3)], since=HEAL)

    assert books.reported == 0 and books.unaccounted == [after[0].trace_id]
    assert books.as_dict()["earlier_unaccounted"] == 0


def test_an_earlier_request_whose_report_was_lost_takes_no_report_about_a_new_one() -> None:
    # The SDK lost the report about the outage's request (sent while its ingest was away); the
    # one unit it reported after the heal is the new request's.
    outage = _requests(0, 1, HEAL - 5)
    after = _requests(100, 1, HEAL + 1)

    books = account(outage + after, set(), [ReportedDrop(HEAL + 3, "network_error", 1)], since=HEAL)

    assert books.reported == 1 and books.unaccounted == []
    assert books.as_dict()["earlier_unaccounted"] == 1  # shown, not judged


def test_the_reason_must_fit_what_apis_witness_said() -> None:
    kept = _requests(0, 2, HEAL, api_sampled=True)  # api sampled it: only transport can lose it
    turned_away = _requests(100, 2, HEAL, api_sampled=False)  # api's SDK turned it away
    unknown = _requests(200, 1, HEAL, api_sampled=None)
    drops = [
        ReportedDrop(HEAL + 5, "backpressure", 1),  # cannot be a kept request's
        ReportedDrop(HEAL + 5, "sample_rate", 1),  # api's unsampled health probes report these too
        ReportedDrop(HEAL + 6, "before_send", 5),  # deliberate: explains no loss
    ]

    books = account(kept, set(), drops, since=HEAL)
    assert books.reported == 0 and len(books.unaccounted) == 2
    # No word from api: any loss reason may be its, a sample-rate drop may not (a probe's, maybe).
    books = account(unknown, set(), drops[1:], since=HEAL)
    assert books.reported == 0 and len(books.unaccounted) == 1
    assert account(unknown, set(), drops, since=HEAL).reported_by_reason == {"backpressure": 1}

    books = account(turned_away, set(), drops, since=HEAL)
    assert books.reported == 2 and books.reported_by_reason == {"backpressure": 1, "sample_rate": 1}

    books = account(kept, set(), [ReportedDrop(HEAL + 5, "queue_overflow", 2)], since=HEAL)
    assert books.reported == 2


def test_requests_nobody_owes_a_transaction_for_are_counted_apart() -> None:
    unsampled = _requests(0, 2, HEAL, sampled=False)
    unanswered = _requests(100, 3, HEAL, answered=False)

    books = account(unsampled + unanswered, set(), [], since=HEAL)

    assert (books.requests, books.not_owed, books.unaccounted) == (5, 5, [])
