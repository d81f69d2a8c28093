"""api's books after a chaos run's heal, request by request.

Counting envelopes that arrived after the heal proves nothing about the requests made after it:
an SDK that was cut off delivers its queue late, so transactions of earlier requests arrive then
and would pass for new ones (a relay-down run stored 403 transactions "after the heal" for 330
requests). So each request is matched by its own trace: Locust starts a fresh trace per request
and records it (its expectation, with what api's witness header said), and api continues that
trace, so api's transaction for the request carries the request's trace id. A request is
accounted for when that transaction arrived, or when api's SDK reported a dropped transaction
that can be this request's:

- a unit of a client report with a loss reason (`LOSS_REASONS`, the verifier's), received no
  earlier than the request started (an SDK cannot report a loss before the request exists);
  a request from before `since` takes only units received before it (chaos.py has the SDKs
  report their drops until the heal settled, then sets `since`): an SDK loses some of its own
  reports while its ingest is away, and the earlier requests those covered must not take the
  reports about the new ones instead;
- a reason that fits what api's witness said of the request: api sampled it (then transport lost
  it: any loss reason but `backpressure`), api turned it away although Locust sampled it
  (`backpressure`, or `sample_rate` once the monitor had eased), or no word (any loss reason);
- each unit explains one request at most; requests take units oldest first, each the earliest
  unit that fits, so the losses of earlier requests use up the reports about them first.

A request nobody owes a transaction for (Locust did not sample it, or it got no answer, so api may
never have seen it) is counted apart. Everything here is pure: scripts/chaos.py gathers the facts
from relay-mock, tests/e2e/test_chaos_checks.py feeds it crafted ones it must reject.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from relay_mock.verify.attribution import LOSS_REASONS

# What may explain a request api's witness says it turned away although Locust sampled it: the
# SDK's backpressure, reported as such or, once its monitor had eased, as a sample-rate drop.
TURNED_AWAY = frozenset({"backpressure", "sample_rate"})
# What may explain a request api kept: the transport lost it.
KEPT = LOSS_REASONS - {"backpressure"}


@dataclass(frozen=True)
class SentRequest:
    """One request Locust made, as it recorded it."""

    trace_id: str
    started_at: float
    sampled: bool = True  # Locust's own sampling decision, at the head of the trace
    answered: bool = True  # it got an answer (status > 0)
    api_sampled: bool | None = None  # api's own decision, from its witness; None: no word


@dataclass(frozen=True)
class ReportedDrop:
    """One line of a client report api's SDK sent: `quantity` transactions dropped for `reason`."""

    at: float  # when relay-mock received the report
    reason: str
    quantity: int


@dataclass
class Books:
    """The requests that started at or after `since`, and what became of each."""

    requests: int = 0
    arrived: int = 0
    reported: int = 0
    not_owed: int = 0
    reported_by_reason: dict[str, int] = field(default_factory=dict)
    unaccounted: list[str] = field(default_factory=list)  # their trace ids
    # The requests before `since` that nothing accounts for (shown, not judged: an SDK loses some
    # of its own reports while its ingest is away), and when the first and last of them started.
    earlier_unaccounted: list[float] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "requests": self.requests,
            "arrived": self.arrived,
            "reported": self.reported,
            "reported_by_reason": dict(sorted(self.reported_by_reason.items())),
            "not_owed": self.not_owed,
            "unaccounted": len(self.unaccounted),
            "unaccounted_examples": self.unaccounted[:5],
            "earlier_unaccounted": len(self.earlier_unaccounted),
            "earlier_unaccounted_started": [min(self.earlier_unaccounted), max(self.earlier_unaccounted)]
            if self.earlier_unaccounted
            else None,
        }


def reasons_for(request: SentRequest) -> frozenset[str]:
    """The client report reasons that may explain this request's missing transaction."""
    if request.api_sampled is False:
        return TURNED_AWAY
    if request.api_sampled is True:
        return KEPT
    return LOSS_REASONS


def account(
    requests: Iterable[SentRequest],
    arrived: Collection[str],
    drops: Iterable[ReportedDrop],
    *,
    since: float,
) -> Books:
    """The books of the requests that started at or after `since`. `requests` should hold the
    whole run (earlier requests' losses take the reports received before `since` first);
    `arrived`: the trace ids of api's transactions relay-mock stored; `drops`: api's client
    report lines for transactions."""
    units = sorted((d for d in drops if d.quantity > 0), key=lambda d: d.at)
    remaining = [d.quantity for d in units]
    books = Books()
    for request in sorted(requests, key=lambda r: (r.started_at, r.trace_id)):
        counted = request.started_at >= since
        books.requests += counted
        if not (request.sampled and request.answered):
            books.not_owed += counted
            continue
        if request.trace_id in arrived:
            books.arrived += counted
            continue
        allowed = reasons_for(request)
        taken = next(
            (
                i
                for i, drop in enumerate(units)
                if remaining[i] > 0
                and (drop.at >= request.started_at if counted else drop.at < since)
                and drop.reason in allowed
            ),
            None,
        )
        if taken is not None:
            remaining[taken] -= 1
            if counted:
                books.reported += 1
                reason = units[taken].reason
                books.reported_by_reason[reason] = books.reported_by_reason.get(reason, 0) + 1
        elif counted:
            books.unaccounted.append(request.trace_id)
        else:
            books.earlier_unaccounted.append(request.started_at)
    return books
