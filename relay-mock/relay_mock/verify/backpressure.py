"""Findings that an SDK's backpressure explains.

While sentry-python's transport is unhealthy (its queue full, or a rate limit active), its
monitor halves the trace sample rate every 10 s, down to 1/1024, and applies the lowered rate
even to traces the caller sampled: it rolls the trace's sample_rand against it. That leaves
marks the checks see, none of them a propagation failure:

- a sampled trace loses that service's transaction, and the transactions of the services it
  calls, which it tells the trace is unsampled;
- the DSC the service sends carries the lowered sample_rate (with a traces_sampler set the SDK
  writes its effective rate into the DSC), so it differs from the caller's;
- that DSC keeps the caller's `sampled=true`, which contradicts the lowered rate.

The SDK reports the transactions it turned away as `backpressure` drops, counted per project
(or as `sample_rate` when the monitor had recovered by the time the transaction finished). So,
like the other drops (see `attribution`), each reported unit explains at most one lost
transaction of that project, oldest loss first, in the same window as other drops; a head
service's loss is never backpressure when a service it called received a sampled call (the head
kept the trace). A loss after the head, in a trace whose head's own loss was explained by a
backpressure unit, follows from the head's decision: the service was told the trace is
unsampled and reported a deliberate `sample_rate` drop. A DSC finding is explained when every
differing DSC of the trace is the caller's with its sample_rate divided by a power of two, and
the service that lowered it (the first on the trace's path whose DSC carries the lowered rate;
the services after it copy that DSC) reported backpressure at the time.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from relay_mock.verify.attribution import HEAD_SAMPLING, LOSS_REASONS, SAMPLED_OUT, Window
from relay_mock.verify.model import ClientReportFact, VerifyConfig
from relay_mock.verify.report import Finding
from relay_mock.verify.sampling import DSC_CONTRADICTION
from relay_mock.verify.view import TraceView

LABEL = "sdk:backpressure"
MAX_DOWNSAMPLE_FACTOR = 10  # sentry-python halves the rate at most ten times
# The DSC keys backpressure rewrites (sample_rate) or leaves stale (sampled).
REWRITTEN = frozenset({"sample_rate", "sampled"})


def explain_backpressure(
    findings: list[Finding],
    views: Sequence[TraceView],
    client_reports: Iterable[ClientReportFact],
    config: VerifyConfig,
) -> list[Finding]:
    """Explain lowered DSCs: the transactions arrived, but their DSC carries a sample_rate the
    overloaded SDK lowered. Losses are counted drops like any other (`attribute`, with
    `ruled_out`); the services after a head that lost the trace to backpressure follow from it
    there too."""
    reports = [
        r
        for r in client_reports
        if r.reason == "backpressure" and r.quantity > 0 and (config.until is None or r.received_at <= config.until)
    ]
    if not reports:
        return findings
    by_trace = {view.trace_id: view for view in views}
    reported = _report_times(reports)

    def evidence(project: str, view: TraceView) -> bool:
        # The same window as every drop's (see `attribution`).
        times = reported.get(project, [])
        start = bisect.bisect_left(times, view.started_at - config.attribution_before_s)
        return start < len(times) and times[start] <= view.ended_at + config.flush_delay_s

    explained: set[int] = set()
    for finding in findings:
        view = by_trace.get(finding.trace_id)
        if finding.attributed_to is not None or view is None:
            continue
        if finding.check == "dsc" or finding.message == DSC_CONTRADICTION:
            lowered_by = _lowered_by(view)
            # The services after the one that lowered the rate copy its DSC: when the head's
            # DSC is lowered, the head did it.
            head = view.head_service
            carried = {item.project for item in view.envelopes if item.dsc is not None}
            lost_head = head is not None and head not in carried and head in view.callers
            if head in lowered_by or (lowered_by and lost_head):
                # The head lowered it, or its envelope is lost and the others copied its DSC.
                lowered_by = {str(head)}
            if any(evidence(project, view) for project in lowered_by):
                explained.add(id(finding))
    return [replace(f, attributed_to=LABEL) if id(f) in explained else f for f in findings]


def allowed_reasons(views: Sequence[TraceView]) -> Callable[[Finding], Collection[str]]:
    """For `attribute`: what may explain a head service's loss. Backpressure cannot when a
    service it called received a sampled call from it (the envelope arrived, or its witness says
    so): the head kept the trace. Only the head's own sampling can (a `backpressure` unit, or a
    `sample_rate` one when the monitor had recovered by the end of the transaction) when a
    witness says the head told the next service "unsampled" although the caller sampled it."""
    by_trace = {view.trace_id: view for view in views}
    kept = LOSS_REASONS - {"backpressure"}
    sampled_out = frozenset({"backpressure", SAMPLED_OUT})

    def reasons(loss: Finding) -> Collection[str]:
        view = by_trace.get(loss.trace_id)
        if view is None or loss.service != view.head_service or loss.kind != "missing_transaction":
            return LOSS_REASONS  # sampling decides transactions only; errors are lost otherwise
        told = _told_sampled(view)
        if told is False:
            return sampled_out
        if told is True or _arrived_after_head(view):
            return kept
        return LOSS_REASONS

    return reasons


def follow_head_backpressure(findings: list[Finding], windows: Mapping[str, Window]) -> list[Finding]:
    """A witness that says a service was told "unsampled" (and nothing else wrong) follows from
    the head's backpressure when the head's own loss took a counted backpressure unit."""
    heads = {
        f.trace_id: str(f.attributed_to)
        for f in findings
        if f.attributed_to in HEAD_SAMPLING
        and f.kind == "missing_transaction"
        and f.service == windows[f.trace_id].head
    }
    return [
        replace(f, attributed_to=heads[f.trace_id]) if f.kind == "witness_unsampled" and f.trace_id in heads else f
        for f in findings
    ]


def _told_sampled(view: TraceView) -> bool | None:
    """What the head decided, by the witnesses: what the services after it received, and its
    own decision: True (sampled, as the caller decided), False (unsampled, against the caller),
    None (nothing to tell)."""
    exp, witnesses = view.bundle.expectation, view.witnesses
    if exp is None or not witnesses or not exp.sampled:
        return None
    head = view.head_service
    flags = {w.parts[2] for w in witnesses if w.service != head and w.received and w.parts[0] == view.trace_id}
    # The head's own word on its decision, when its witness carries it.
    flags.update(w.sampled for w in witnesses if w.service == head and w.received and w.parts[0] == view.trace_id)
    flags.discard(None)
    if flags == {False}:
        return False
    return True if True in flags else None


def _report_times(reports: Iterable[ClientReportFact]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for report in reports:
        times.setdefault(report.project, []).append(report.received_at)
    return {project: sorted(at) for project, at in times.items()}


def _arrived_after_head(view: TraceView) -> bool:
    head = view.head_service
    return any(tx.project != head for tx in (*view.transactions, *view.joined, *view.adopted.values()))


def _lowered_by(view: TraceView) -> set[str]:
    """The projects whose DSC is the caller's with a lowered sample_rate; empty when any DSC of
    the trace differs otherwise (then backpressure explains nothing)."""
    carried = [(item.project, item.dsc) for item in view.envelopes if item.dsc is not None]
    exp = view.bundle.expectation
    origin = exp.baggage if exp is not None and exp.baggage else None
    origin_rate: float | None = None
    if origin is None:
        # Found in the store only: the least lowered DSC stands for the caller's; when even that
        # is a power-of-two fraction of 1 and contradicts its own sampled flag, the caller's
        # rate was 1 (nothing else leaves sampled=true beside a rate that says otherwise).
        origin = max((dsc for _, dsc in carried), key=lambda d: _number(d.get("sample_rate")) or 0.0, default=None)
        top = _number(origin.get("sample_rate")) if origin else None
        if origin is not None and top is not None and top < 1 and _halvings(1.0, top) and _stale(origin):
            origin_rate = 1.0
    origin_rate = origin_rate or (_number(origin.get("sample_rate")) if origin else None)
    if origin is None or not origin_rate:
        return set()
    kept = _kept(origin)
    lowered = set()
    for project, dsc in carried:
        if _kept(dsc) != kept:
            return set()
        factor = _halvings(origin_rate, _number(dsc.get("sample_rate")))
        if factor is None:
            return set()
        if factor > 0:
            lowered.add(project)
    return lowered


def _stale(dsc: dict[str, Any]) -> bool:
    """sampled=true beside a sample_rand at or above the sample_rate."""
    rand, rate = _number(dsc.get("sample_rand")), _number(dsc.get("sample_rate"))
    return str(dsc.get("sampled")).lower() == "true" and rand is not None and rate is not None and rand >= rate


def _kept(dsc: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in dsc.items() if key not in REWRITTEN}


def _halvings(origin: float, rate: float | None) -> int | None:
    """k when rate == origin / 2**k for 0 <= k <= MAX_DOWNSAMPLE_FACTOR, else None."""
    if rate is None or rate <= 0:
        return None
    for k in range(MAX_DOWNSAMPLE_FACTOR + 1):
        if math.isclose(rate, origin / 2**k, rel_tol=1e-6):
            return k
    return None


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None
