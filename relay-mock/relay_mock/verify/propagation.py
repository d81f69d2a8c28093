"""Propagation-format breaks: a call whose callee started a new trace because the caller's
context came in a format it does not read.

sentry-sdk sends `sentry-trace` + `baggage` and never W3C `traceparent`; a plain OpenTelemetry
service reads only `traceparent`; a load generator (or k6, or an OTel client) heading a trace
the W3C way sends `traceparent` only, which a Sentry SDK does not read. Either way the callee
starts a trace of its own and the trace splits in two. This module pairs the call with the
trace the callee's spans went to, from evidence only:

- the callee's witness (`WitnessFact.trace_id`: the trace its own entry span joined) naming another
  trace than the one it received: decisive, whatever else arrived;
- else the callee's root span (of the called service: the project answering the call's host,
  or named like it) starting inside the call span's window, with no parent or a parent outside
  the caller's trace, in a trace nobody expected: evidence when it is the only one.

A call is a format boundary when the formats differ: the caller is a Sentry SDK (its spans came
in an envelope) and the callee an OpenTelemetry service (its spans came over OTLP), or the
caller (an expectation's `propagation`) sent `traceparent` only to a Sentry SDK. Where the
evidence is not enough (no witness and no candidate root, or several candidates), the break is
reported as unverified with a named cause, never guessed. Calls that do not cross a format
boundary are left to `view.adopt` (the call carried no trace headers: `propagation_lost`).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass

from relay_mock.verify.model import ExpectationFact, FormatBreak, SpanFact, TransactionFact, WitnessFact
from relay_mock.verify.report import Finding
from relay_mock.verify.view import TraceView

OTLP = "otlp"
# The causes of a break the evidence cannot settle (the trace is unverified).
UNKNOWN = "propagation:unknown"
AMBIGUOUS = "propagation:ambiguous"
SENTRY_HEADERS = ("sentry-trace", "baggage")
W3C_HEADERS = ("traceparent", "tracestate")
HEADERS_OF = {"sentry": SENTRY_HEADERS, "w3c": W3C_HEADERS, "both": (*SENTRY_HEADERS, *W3C_HEADERS)}


@dataclass(slots=True)
class _Orphan:
    start: float
    tx: TransactionFact
    view: TraceView


@dataclass(slots=True)
class _Roots:
    """The root spans of the run's unexpected traces, by start, and the traces already paired
    with a call (one trace answers one call)."""

    orphans: list[_Orphan]
    starts: list[float]
    claimed: set[str]


def resolve_format_breaks(views: Sequence[TraceView]) -> None:
    """Find every format break of the run and pair each with the trace its callee started."""
    # One pass over the run for what the breaks are searched in (this runs over every trace of
    # a window: 50,000 in the benchmark, nearly all of them healthy).
    by_id: dict[str, TraceView] = {}
    orphans: list[_Orphan] = []
    claimed: set[str] = set()  # a trace a witness names is that witness's: no candidate for another call
    suspects: list[TraceView] = []
    for view in views:
        by_id[view.trace_id] = view
        exp = view.bundle.expectation
        if exp is None:
            for tx in view.transactions:
                if tx.start is not None and (tx.parent_span_id is None or tx.parent_span_id not in view.spans):
                    orphans.append(_Orphan(tx.start, tx, view))
            if len(view.children) + len(view.not_reached) < len(view.calls):
                suspects.append(view)
            continue
        if exp.witnesses:
            claimed.update(w.trace_id for w in exp.witnesses if w.trace_id is not None and w.trace_id != view.trace_id)
        root = view.root
        head_arrived = root is not None and bool(exp.expect_services) and root.project == exp.expect_services[0]
        if not head_arrived or len(view.children) + len(view.not_reached) < len(view.calls):
            suspects.append(view)
    if not suspects:
        return
    orphans.sort(key=lambda o: o.start)
    roots = _Roots(orphans, [o.start for o in orphans], claimed)
    otlp = frozenset(tx.project for view in views for tx in view.bundle.transactions if tx.ingest == OTLP)
    tol = views[0].config.clock_skew_tolerance_s
    for view in suspects:
        exp = view.bundle.expectation
        if exp is not None and exp.expect_services:
            _head(view, exp, by_id, roots, tol)
        if len(view.children) + len(view.not_reached) < len(view.calls):
            for span_id, (caller, call) in view.calls.items():
                if span_id not in view.children and span_id not in view.not_reached:
                    _call(view, caller, call, by_id, otlp, roots, tol)
    for view in suspects:
        for found in view.format_breaks:
            other = by_id.get(found.other_trace or "")
            if other is not None and other is not view and found.cause is None:
                # Reported once, in the caller's trace; the trace page of the other links back.
                other.adopted_by = view.trace_id


def _head(
    view: TraceView,
    exp: ExpectationFact,
    by_id: dict[str, TraceView],
    roots: _Roots,
    tol: float,
) -> None:
    head = exp.expect_services[0]
    root = view.root
    if root is not None and root.project == head:
        return  # the head continued the trace (the common case, decided without a scan)
    if any(tx.project == head for tx in view.transactions) or any(tx.project == head for tx in view.joined):
        return
    witness = next((w for w in view.witnesses or () if w.service == head and w.received is not None), None)
    sent = _sent_at_head(exp, witness)
    end = exp.ended_at if exp.ended_at is not None else exp.started_at
    found = FormatBreak(None, "the caller", head, "the request", sent, None, None, ())
    if witness is not None and _did_not_continue(witness, view.trace_id):
        _by_witness(view, found, witness, by_id, exp.started_at, end, tol, "the request's window")
    elif exp.propagation == "w3c" and exp.sampled and (witness is None or witness.trace_id is None):
        # A Sentry SDK reads no traceparent: the head's service started a trace of its own.
        fits = _candidates(view, head, exp.started_at, end, roots, tol)
        _settle(view, found, head, fits, roots, "the request's window")
    else:
        return
    view.format_breaks.append(found)
    view.head_split = True
    _explain_witnesses(view, found, witness)


def _call(
    view: TraceView,
    caller: TransactionFact,
    call: SpanFact,
    by_id: dict[str, TraceView],
    otlp: frozenset[str],
    roots: _Roots,
    tol: float,
) -> None:
    target = view.target(call)
    if target is None:
        return  # a host no project answers: not a service of the sandbox
    witness = _witness_of(view, call, target)
    sent = _sent_by_call(caller, witness)
    found = FormatBreak(call.span_id, caller.project, target, call.description or call.span_id, sent, None, None, ())
    found.caller_items = (caller,)
    lo, hi = call.start, call.end
    if witness is not None and _did_not_continue(witness, view.trace_id):
        _by_witness(view, found, witness, by_id, lo, hi, tol, "the call span's window")
    elif witness is not None and witness.trace_id == view.trace_id:
        return  # the callee continued the trace: its transaction was lost in delivery
    elif caller.ingest != OTLP and lo is not None and hi is not None and sent == SENTRY_HEADERS:
        # The caller is a Sentry SDK: it sent sentry-trace and baggage. Only a callee that reads
        # another format (an OpenTelemetry service, its spans over OTLP) makes this a format break.
        fits = _candidates(view, target, lo, hi, roots, tol)
        if target not in otlp and not any(o.tx.ingest == OTLP for o in fits):
            return  # both sides speak sentry-trace: `propagation_lost`, if anything
        _settle(view, found, target, fits, roots, "the call span's window")
    else:
        return
    view.format_breaks.append(found)
    view.format_calls.add(call.span_id)
    _explain_witnesses(view, found, witness)


def _explain_witnesses(view: TraceView, found: FormatBreak, witness: WitnessFact | None) -> None:
    """The witnesses the break explains, which the witness check then leaves alone: the callee's,
    and those of the services after it, which received (or joined) the callee's new trace."""
    if witness is not None:
        view.format_witnesses.add(id(witness))
    other = found.other_trace
    if other is None:
        return
    for w in view.witnesses or ():
        if w.parts[0] == other or w.trace_id == other:
            view.format_witnesses.add(id(w))


def _did_not_continue(witness: WitnessFact, trace_id: str) -> bool:
    """The witness says the callee received our context in some format and its own entry span
    joined another trace."""
    received = witness.parts[0] == trace_id or witness.traceparent_trace_id == trace_id
    return received and witness.trace_id is not None and witness.trace_id != trace_id


def _by_witness(
    view: TraceView,
    found: FormatBreak,
    witness: WitnessFact,
    by_id: dict[str, TraceView],
    lo: float | None,
    hi: float | None,
    tol: float,
    window: str,
) -> None:
    found.other_trace = witness.trace_id
    found.evidence = (_witness_words(found.callee, witness),)
    other = by_id.get(witness.trace_id or "")
    if other is None:
        return
    roots = [
        tx
        for tx in other.transactions
        if tx.project == found.callee and (tx.parent_span_id is None or tx.parent_span_id not in other.spans)
    ]
    root = min(roots, key=lambda tx: tx.start or tx.received_at, default=None)
    if root is not None:
        found.root = root
        inside = lo is not None and hi is not None and root.start is not None and lo - tol <= root.start <= hi + tol
        where = f"starts inside {window}" if inside else "is in that trace"
        found.evidence += (f"{found.callee}'s root span {root.name} {where}, {_parent_words(root)}",)


def _settle(view: TraceView, found: FormatBreak, service: str, fits: list[_Orphan], roots: _Roots, window: str) -> None:
    if len(fits) == 1:
        root = fits[0].tx
        found.other_trace, found.root = fits[0].view.trace_id, root
        roots.claimed.add(found.other_trace)
        found.evidence = (f"{service}'s root span {root.name} starts inside {window}, {_parent_words(root)}",)
    elif fits:
        found.cause = AMBIGUOUS
        found.candidates = tuple(sorted(o.view.trace_id for o in fits))
        found.evidence = (
            f"no witness names the trace, and {len(fits)} {service} root spans start inside {window}:"
            f" traces {', '.join(found.candidates)}",
        )
    else:
        found.cause = UNKNOWN
        found.evidence = (f"no witness names the trace, and no {service} root span starts inside {window}",)


def _candidates(
    view: TraceView,
    service: str,
    lo: float,
    hi: float,
    roots: _Roots,
    tol: float,
) -> list[_Orphan]:
    """Root spans of `service` in traces nobody expected and no other call took, starting
    inside [lo, hi]."""
    orphans, starts = roots.orphans, roots.starts
    index = bisect.bisect_left(starts, lo - tol)
    fits = []
    while index < len(orphans) and starts[index] <= hi + tol:
        orphan = orphans[index]
        if orphan.tx.project == service and orphan.view is not view and orphan.view.trace_id not in roots.claimed:
            fits.append(orphan)
        index += 1
    return fits


def _witness_of(view: TraceView, call: SpanFact, target: str) -> WitnessFact | None:
    """The witness of the service this call reached: the one that received the call span as its
    parent, else the only witness of the target service."""
    witnesses = [w for w in view.witnesses or () if w.received is not None]
    for w in witnesses:
        if w.parts[1] == call.span_id or (w.traceparent and call.span_id in w.traceparent):
            return w
    of_target = [w for w in witnesses if w.service == target]
    return of_target[0] if len(of_target) == 1 else None


def _sent_at_head(exp: ExpectationFact, witness: WitnessFact | None) -> tuple[str, ...]:
    if witness is not None and (witness.received is not None or witness.traceparent is not None):
        return _sent_by_witness(witness, baggage=exp.baggage is not None or exp.propagation != "w3c")
    return HEADERS_OF.get(exp.propagation, SENTRY_HEADERS)


def _sent_by_call(caller: TransactionFact, witness: WitnessFact | None) -> tuple[str, ...]:
    if witness is not None:
        return _sent_by_witness(witness, baggage=caller.ingest != OTLP)
    # A Sentry SDK's call span: sentry-sdk propagates sentry-trace and baggage, never traceparent.
    return SENTRY_HEADERS if caller.ingest != OTLP else ()


def _sent_by_witness(witness: WitnessFact, *, baggage: bool) -> tuple[str, ...]:
    sent: tuple[str, ...] = ()
    if witness.received:
        sent += ("sentry-trace", "baggage") if baggage else ("sentry-trace",)
    if witness.traceparent:
        sent += ("traceparent",)
    return sent


def _witness_words(service: str, witness: WitnessFact) -> str:
    got = []
    if witness.received:
        got.append(f"sentry-trace {witness.received}")
    if witness.traceparent:
        got.append(f"traceparent {witness.traceparent}")
    missing = [
        name for name, value in (("sentry-trace", witness.received), ("traceparent", witness.traceparent)) if not value
    ]
    said = " and ".join(got) + (f", no {' or '.join(missing)}" if missing else "")
    return f"{service}'s witness received {said}, and its own entry span is in trace {witness.trace_id}"


def _parent_words(root: TransactionFact) -> str:
    if root.parent_span_id is None:
        return "with no parent"
    return f"with parent {root.parent_span_id}, which is not in the caller's trace"


def headers_words(sent: tuple[str, ...]) -> str:
    """'sentry-trace and baggage (no traceparent)', 'traceparent and tracestate only'..."""
    if not sent:
        return "a trace context in a format it does not read"
    names = " and ".join(sent) if len(sent) <= 2 else ", ".join(sent[:-1]) + " and " + sent[-1]
    if "traceparent" not in sent:
        return f"{names} (no traceparent)"
    if "sentry-trace" not in sent:
        return f"{names} only (no sentry-trace)"
    return names


def format_findings(view: TraceView) -> list[Finding]:
    """The linkage check's `propagation_format` findings of one trace: failed where the evidence
    pairs the call with the callee's trace, unverified (with the cause) where it cannot."""
    findings = []
    for found in view.format_breaks:
        sent = headers_words(found.sent)
        who = f"{found.caller}'s call {found.call}" if found.span_id is not None else f"{found.caller}'s request"
        if found.cause == UNKNOWN:
            # Nothing shows where the callee went: it may not read the format, or its spans were lost.
            said = (
                f"{found.callee} sent nothing under this trace: it may not read that format and have started"
                " a trace of its own, or its spans were lost"
            )
        elif found.cause == AMBIGUOUS or found.other_trace is None:
            said = f"{found.callee} continued none of it and started a trace of its own; the evidence cannot tell which"
        else:
            said = f"{found.callee} continued none of it and started trace {found.other_trace}, where its spans went"
        message = (
            f"{who} sent {sent}; {said} (propagation format: {found.callee} does not read what {found.caller} sent)."
            f" Evidence: {'; '.join(found.evidence)}"
        )
        expected = f"{found.callee} continues trace {view.trace_id}"
        if found.span_id is not None:
            expected += f" with parent_span_id {found.span_id}"
        observed = f"{found.callee} in trace {found.other_trace}" if found.other_trace else "no trace named"
        items = [*found.caller_items, *([found.root] if found.root is not None else [])]
        findings.append(
            view.finding(
                "linkage",
                "propagation_format",
                message,
                expected=expected,
                observed=observed,
                items=items,
                service=found.callee,
                span_id=found.span_id,
                attributed_to=found.cause,
                other_trace_id=found.other_trace,
            )
        )
    return findings
