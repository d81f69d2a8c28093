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

The SDK reports such drops as `backpressure` (or as `sample_rate` when the monitor had
recovered by the time the transaction finished). The reports are counts per project, so a
finding is explained by the trace's own numbers and the service's reports together: the
sample_rand is one the lowered rate turns away, or every differing DSC is the caller's with
its sample_rate divided by a power of two; and the service that lowered it (the first on
the trace's path whose DSC carries the lowered rate; the services after it copy that DSC)
reported `backpressure` drops around that time.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

from relay_mock.verify.model import ClientReportFact, VerifyConfig
from relay_mock.verify.report import Finding
from relay_mock.verify.sampling import DSC_CONTRADICTION
from relay_mock.verify.view import TraceView

LABEL = "sdk:backpressure"
MAX_DOWNSAMPLE_FACTOR = 10  # sentry-python halves the rate at most ten times
# The monitor looks every 10 s and client reports go out at most every 30 s or so: a drop
# is reported within about a minute.
REPORT_DELAY_S = 60.0
# The DSC keys backpressure rewrites (sample_rate) or leaves stale (sampled).
REWRITTEN = frozenset({"sample_rate", "sampled"})


def explain_backpressure(
    findings: list[Finding],
    views: Sequence[TraceView],
    client_reports: Iterable[ClientReportFact],
    config: VerifyConfig,
) -> list[Finding]:
    """Return `findings` with `attributed_to` set on those backpressure explains."""
    reported = _backpressure_reports(client_reports)
    if not reported:
        return findings
    by_trace = {view.trace_id: view for view in views}
    explained: set[int] = set()
    dropped_by_head: set[str] = set()  # traces the head service's backpressure unsampled

    def evidence(project: str, view: TraceView) -> bool:
        times = reported.get(project, [])
        start = bisect.bisect_left(times, view.started_at - config.attribution_before_s)
        return start < len(times) and times[start] <= view.started_at + REPORT_DELAY_S

    # The head's losses first: a downstream loss may follow from one.
    ordered = sorted(findings, key=lambda f: f.service != config.head_service)
    for finding in ordered:
        view = by_trace.get(finding.trace_id)
        if finding.attributed_to is not None or view is None:
            continue
        if finding.kind == "missing_transaction" and finding.service is not None:
            if not _turned_away(view):
                continue
            service = finding.service
            if service == config.head_service:
                if _arrived(view, config.downstream_service) or not evidence(service, view):
                    continue  # downstream's transaction proves the head kept the trace
                dropped_by_head.add(view.trace_id)
            elif view.trace_id not in dropped_by_head and not evidence(service, view):
                continue
            explained.add(id(finding))
        elif finding.check == "dsc" or finding.message == DSC_CONTRADICTION:
            lowered_by = _lowered_by(view)
            # The services after the one that lowered the rate copy its DSC: when the head's
            # DSC is lowered, the head did it.
            if config.head_service in lowered_by:
                lowered_by = {config.head_service}
            if any(evidence(project, view) for project in lowered_by):
                explained.add(id(finding))
    return [replace(f, attributed_to=LABEL) if id(f) in explained else f for f in findings]


def _backpressure_reports(reports: Iterable[ClientReportFact]) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for report in reports:
        if report.reason == "backpressure" and report.quantity > 0:
            times.setdefault(report.project, []).append(report.received_at)
    return {project: sorted(at) for project, at in times.items()}


def _turned_away(view: TraceView) -> bool:
    """Whether the caller sampled the trace with a sample_rand that a halved rate refuses."""
    exp = view.bundle.expectation
    if exp is not None:
        if not exp.sampled or exp.sample_rand is None or exp.sample_rate is None:
            return False
        return exp.sample_rand >= exp.sample_rate / 2
    dsc = view.dsc
    rand, rate = (_number(dsc.get("sample_rand")), _number(dsc.get("sample_rate"))) if dsc else (None, None)
    return rand is not None and rate is not None and rand >= rate / 2


def _arrived(view: TraceView, service: str) -> bool:
    return any(tx.project == service for tx in (*view.transactions, *view.joined, *view.adopted.values()))


def _lowered_by(view: TraceView) -> set[str]:
    """The projects whose DSC is the caller's with a lowered sample_rate; empty when any DSC of
    the trace differs otherwise (then backpressure explains nothing)."""
    carried = [(item.project, item.dsc) for item in view.envelopes if item.dsc is not None]
    exp = view.bundle.expectation
    origin = exp.baggage if exp is not None and exp.baggage else None
    if origin is None:
        # Found in the store only: the least lowered DSC stands for the caller's.
        origin = max((dsc for _, dsc in carried), key=lambda d: _number(d.get("sample_rate")) or 0.0, default=None)
    origin_rate = _number(origin.get("sample_rate")) if origin else None
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
