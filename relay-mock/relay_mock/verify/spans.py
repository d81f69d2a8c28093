"""The checks on span contents: what a successful transaction must hold, and that children lie
inside their parents in time.
"""

from __future__ import annotations

from relay_mock.verify.model import SpanFact, TransactionFact
from relay_mock.verify.report import Finding
from relay_mock.verify.view import TraceView


def check_db_spans(view: TraceView) -> list[Finding]:
    """The topology's required ops: e.g. transactions that succeeded touched the database, so
    they hold a db span (see `RequiredOps`; none without an expectations file)."""
    rules = view.config.required_ops
    if not rules:
        return []
    findings = []
    for tx in view.bundle.transactions:
        for rule in rules:
            if tx.project != rule.service or (rule.transaction is not None and tx.name != rule.transaction):
                continue
            if rule.status and tx.status not in rule.status:
                continue
            if not _has_op(tx, rule.op_prefix):
                findings.append(
                    view.finding(
                        "db_spans",
                        "missing_db_span",
                        f"{tx.project} transaction {tx.name} ({tx.status}) holds no {rule.op_prefix} span",
                        expected=f"a span whose op starts with {rule.op_prefix!r}",
                        observed=", ".join(sorted(str(s.op) for s in tx.spans)) or "no spans",
                        items=[tx],
                    )
                )
    return findings


def _has_op(tx: TransactionFact, prefix: str) -> bool:
    for span in tx.spans:
        if span.op is not None and span.op.startswith(prefix):
            return True
    return False


def check_timing(view: TraceView) -> list[Finding]:
    """Children lie inside their parents, give or take the clock-skew tolerance."""
    tol = view.config.clock_skew_tolerance_s
    findings = []
    for span_id, children in view.children.items():
        call = view.calls[span_id][1]
        for tx in children:
            # Only the start must lie inside the call: a server transaction may outlive its
            # response (the SDK captures an unhandled error after the 500 went out), while a
            # skewed clock moves the start as much as the end.
            overshoot = _overshoot(tx.start, tx.start, call.start, call.end)
            if overshoot > tol:
                message = (
                    f"{tx.project} transaction {tx.name} starts {overshoot:.3f}s outside the call span {span_id} "
                    f"that started it (tolerance {tol}s)"
                )
                expected, observed = _interval(call.start, call.end, tol), _interval(tx.start, tx.end)
                findings.append(
                    view.finding("timing", "clock_skew", message, expected=expected, observed=observed, items=[tx])
                )
    for tx in view.bundle.transactions:
        outside = _spans_outside(tx, tol)
        if outside:
            message = f"{len(outside)} span(s) lie outside their {tx.project} transaction {tx.name} (tolerance {tol}s)"
            observed = "; ".join(f"{s.op} {s.span_id} {_interval(s.start, s.end)}" for s in outside)
            findings.append(
                view.finding(
                    "timing",
                    "clock_skew",
                    message,
                    expected=_interval(tx.start, tx.end, tol),
                    observed=observed,
                    items=[tx],
                )
            )
    return findings


def _spans_outside(tx: TransactionFact, tol: float) -> list[SpanFact]:
    if tx.start is None or tx.end is None:
        return []  # a missing timestamp proves nothing
    lo, hi = tx.start - tol, tx.end + tol
    # Inlined rather than _overshoot per span: this loop sees every span of every trace.
    return [s for s in tx.spans if (s.start is not None and s.start < lo) or (s.end is not None and s.end > hi)]


def _overshoot(start: float | None, end: float | None, lo: float | None, hi: float | None) -> float:
    """How far [start, end] sticks out of [lo, hi], in seconds; 0 when a timestamp is missing."""
    if start is None or end is None or lo is None or hi is None:
        return 0.0  # a missing timestamp proves nothing
    return max(lo - start, end - hi, 0.0)


def _interval(start: float | None, end: float | None, tol: float | None = None) -> str:
    text = f"[{_ts(start)}, {_ts(end)}]"
    return text if tol is None else f"{text} ± {tol}s"


def _ts(value: float | None) -> str:
    return "?" if value is None else f"{value:.6f}"
