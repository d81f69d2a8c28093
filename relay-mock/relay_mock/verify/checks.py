"""The trace checks. Each looks at one trace and returns what is wrong with it as findings.

`verify` runs every check over every trace, then lets the drops the SDKs reported (and the
requests relay-mock refused) explain lost items, so the report keeps propagation failures apart
from losses. Pure: no I/O, the same input always gives the same report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from relay_mock.verify.attribution import Window, attribute
from relay_mock.verify.backpressure import allowed_reasons, explain_backpressure, follow_head_backpressure
from relay_mock.verify.heap import collector_paused
from relay_mock.verify.model import (
    ClientReportFact,
    ErrorFact,
    ProfileFact,
    RefusalFact,
    SpanFact,
    TraceBundle,
    TransactionFact,
    VerifyConfig,
)
from relay_mock.verify.propagation import format_findings, resolve_format_breaks
from relay_mock.verify.report import Finding, Report, build_report
from relay_mock.verify.sampling import check_dsc, check_sampling
from relay_mock.verify.spans import check_db_spans, check_timing
from relay_mock.verify.view import Item, TraceView, adopt, build_views
from relay_mock.verify.witness import check_witnesses

Check = Callable[[TraceView], list[Finding]]

# Every finding kind, per check: the verifier's vocabulary. `register_check` adds to both.
FINDING_KINDS: dict[str, tuple[str, ...]] = {
    "completeness": ("missing_transaction", "call_not_reached"),
    "linkage": ("wrong_parent", "duplicate_child", "orphan", "propagation_lost", "propagation_format"),
    "identity": ("trace_id_mismatch",),
    "dsc": ("dsc_mismatch", "dsc_wrong_head"),
    "sampling": ("sampling_contradiction", "unsampled_sent"),
    "errors": ("missing_error", "error_without_trace"),
    "db_spans": ("missing_db_span",),
    "timing": ("clock_skew",),
    "witness": ("witness_mismatch", "witness_unsampled"),
}


def verify(
    bundles: list[TraceBundle],
    *,
    client_reports: list[ClientReportFact],
    refusals: list[RefusalFact],
    config: VerifyConfig,
) -> Report:
    """Check every trace, explain what reported drops and SDK backpressure account for, and count it all.

    `bundles` must hold every trace of the run: an item filed under the wrong trace id is found
    through the spans of the other bundles.
    """
    with collector_paused():
        views = build_views(bundles, config)
        # Format breaks first: a call they explain is not a headerless call for `adopt` to pair.
        resolve_format_breaks(views)
        adopt(views, config)
        # A trace that is only a child cut off from its caller is reported in the caller's trace.
        findings = [
            finding for view in views if view.adopted_by is None for check in CHECKS.values() for finding in check(view)
        ]
        windows = {view.trace_id: Window(view.started_at, view.ended_at, view.head_service) for view in views}
        findings = explain_backpressure(findings, views, client_reports, config)
        findings = attribute(
            findings,
            windows,
            client_reports=client_reports,
            refusals=refusals,
            config=config,
            allowed=allowed_reasons(views),
        )
        findings = follow_head_backpressure(findings, windows)
        return build_report(bundles, findings, list(CHECKS))


def check_completeness(view: TraceView) -> list[Finding]:
    """Each call that reached a service was continued by one transaction, and each service the
    trace owes (the caller's expectation, the topology's `must_cross`) sent one."""
    if not view.sampled:
        return []  # only sampled traces owe transactions
    findings = [_not_reached(view, tx, span) for tx, span in view.not_reached.values()]
    # Cheap test first: on a healthy trace every call has its child.
    if len(view.children) + len(view.not_reached) < len(view.calls):
        findings += _unanswered_calls(view)
    reported = {f.service for f in findings}
    arrived = {tx.project for tx in view.transactions}
    arrived.update(tx.project for tx in (*view.joined, *view.adopted.values()))
    # A callee that did not read the caller's context format: linkage reports it (its
    # transactions went to another trace, or the evidence cannot say where).
    arrived.update(found.callee for found in view.format_breaks)
    excused = _never_called(view)
    if view.head_split:
        excused |= set(_owed_services(view))  # the whole chain went to the head's new trace
    for service in _owed_services(view):
        if service not in arrived and service not in reported and service not in excused:
            message = f"no {service} transaction arrived for this sampled trace"
            findings.append(
                view.finding(
                    "completeness",
                    "missing_transaction",
                    message + _witness_note(view, service),
                    expected=f"at least one {service} transaction",
                    observed="none",
                    items=view.transactions,
                    service=service,
                )
            )
    return findings


def _not_reached(view: TraceView, tx: TransactionFact, span: SpanFact) -> Finding:
    target = view.target(span) or "the called service"
    return view.finding(
        "completeness",
        "call_not_reached",
        f"{tx.project}'s call {span.description} never reached {target} (status {span.status}, no response):"
        " it owes no transaction",
        expected="a response, or no child",
        observed=f"span status {span.status}, no HTTP status",
        items=[tx],
        service=view.target(span),
        note=True,
        span_id=span.span_id,
    )


def _unanswered_calls(view: TraceView) -> list[Finding]:
    unanswered = [
        (tx, span)
        for span_id, (tx, span) in view.calls.items()
        if span_id not in view.children
        and span_id not in view.adopted
        and span_id not in view.not_reached
        and span_id not in view.format_calls
    ]
    # A transaction hung on the wrong span still arrived: linkage reports it, not this check.
    strays: dict[str | None, int] = {}
    for tx in (*view.transactions, *view.joined):
        if tx is not view.root and tx.parent_span_id not in view.calls and not _beside_root(tx, view.root):
            strays[tx.project] = strays.get(tx.project, 0) + 1
    findings = []
    for tx, span in unanswered:
        target = view.target(span)
        if target is None:
            continue  # a host no project answers (and none is named like): not a service of the sandbox
        if strays.get(target, 0) > 0:
            strays[target] -= 1
            continue
        name = target
        findings.append(
            view.finding(
                "completeness",
                "missing_transaction",
                f"{tx.project} called {name} ({span.description}) but no {name} transaction followed"
                + _witness_note(view, target),
                expected=f"a {name} transaction with parent_span_id {span.span_id}",
                observed="none",
                items=[tx],
                service=target,
                span_id=span.span_id,
            )
        )
    return findings


def _witness_note(view: TraceView, service: str | None) -> str:
    """Say when the callee confirmed at the wire that it received the trace: then propagation
    held and the transaction was lost in delivery."""
    witnesses = view.witnesses
    matching = (w.received and w.parts[0] == view.trace_id and w.service in (None, service) for w in witnesses or ())
    if not any(matching):
        return ""
    return "; its witness shows it received this trace, so propagation held and the envelope was lost in delivery"


def _never_called(view: TraceView) -> set[str]:
    """Services the trace owes nothing because every call to them failed before reaching them:
    seen on the calls that arrived, or, when the caller recorded witnesses and the calling
    transaction is lost, because none of them answered."""
    reached = {view.target(span) for span_id, (_, span) in view.calls.items() if span_id not in view.not_reached}
    excused = {t for _, span in view.not_reached.values() if (t := view.target(span)) is not None and t not in reached}
    exp, witnesses = view.bundle.expectation, view.witnesses
    if exp is not None and witnesses is not None and not view.calls:
        answered = {w.service for w in witnesses if w.received is not None}
        excused.update(s for s in exp.expect_services[1:] if s not in answered)
    return excused


def _owed_services(view: TraceView) -> Sequence[str]:
    expectation = view.bundle.expectation
    if expectation is not None:
        must = view.config.must_cross
        extra = must.get(expectation.scenario, must.get("*", ()))
        return (*expectation.expect_services, *(s for s in extra if s not in expectation.expect_services))
    # Found in the store only: a transaction whose parent span is nowhere, in a trace whose DSC
    # names another service as its head, is what a lost head transaction leaves behind, when
    # that head is a service that calls others (the run shows it); a load generator or a
    # browser heading the trace sends no transaction to lose.
    root, head = view.root, view.head_service
    if root is not None and root.parent_span_id is not None and head is not None and head != root.project:
        return (head,) if head in view.callers else ()
    return ()


def check_linkage(view: TraceView) -> list[Finding]:
    """Every transaction hangs on a span of the trace: a child on the call span that caused it."""
    findings = format_findings(view)
    root = view.root
    if root is None:
        return findings  # no tree to hang anything on; completeness names the missing head
    for tx in view.transactions:
        if tx is root or _beside_root(tx, root):
            continue
        parent = tx.parent_span_id
        if parent is None or parent not in view.spans:
            message = f"{tx.project} transaction {tx.name} hangs on span {parent}, which is not in the trace"
            findings.append(
                view.finding(
                    "linkage",
                    "orphan",
                    message,
                    expected="a parent span of this trace",
                    observed=str(parent),
                    items=[tx],
                    span_id=tx.span_id,
                )
            )
        elif parent not in view.calls:
            message = f"{tx.project} transaction {tx.name} hangs on {_describe(view, parent)}, not on a call to it"
            expected = f"one of the call spans {sorted(view.calls)}"
            findings.append(
                view.finding(
                    "linkage",
                    "wrong_parent",
                    message,
                    expected=expected,
                    observed=parent,
                    items=[tx],
                    span_id=tx.span_id,
                )
            )
    for span_id, child in view.adopted.items():
        caller, call = view.calls[span_id]
        message = (
            f"{child.project} transaction {child.name} answered the call {call.description} but started a new "
            f"trace {child.trace_id}: the call carried no usable sentry-trace/baggage (propagation lost)"
        )
        findings.append(
            view.finding(
                "linkage",
                "propagation_lost",
                message,
                expected=f"trace {view.trace_id}, parent_span_id {span_id}",
                observed=f"trace {child.trace_id}, parent_span_id None",
                items=[caller, child],
                span_id=span_id,
            )
        )
    for span_id, children in view.children.items():
        if len(children) > 1:
            message = f"{len(children)} transactions continue the single call span {span_id}"
            observed = f"{len(children)}: {', '.join(sorted(str(c.event_id or c.span_id) for c in children))}"
            caller = view.calls[span_id][0]
            findings.append(
                view.finding(
                    "linkage",
                    "duplicate_child",
                    message,
                    expected="1",
                    observed=observed,
                    items=[caller, *children],
                    span_id=span_id,
                )
            )
    return findings


def _beside_root(tx: TransactionFact, root: TransactionFact | None) -> bool:
    """Another request to the head's service by the same external caller: a sibling, not an orphan."""
    return root is not None and tx.project == root.project and tx.parent_span_id in (None, root.parent_span_id)


def _describe(view: TraceView, span_id: str) -> str:
    tx = view.spans[span_id]
    if tx.span_id == span_id:
        return f"the {tx.project} transaction {tx.name} itself"
    span = next(s for s in tx.spans if s.span_id == span_id)
    return f"a {span.op} span ({span.description}) of {tx.project} {tx.name}"


def check_identity(view: TraceView) -> list[Finding]:
    """Everything that belongs to the trace by linkage carries its trace id."""
    trace_id = view.trace_id
    items: list[Item] = [
        *view.transactions,
        *view.joined,
        # An error with no trace id at all is the errors check's business.
        *(e for e in (*view.errors, *view.joined_errors) if e.trace_id is not None),
        *view.bundle.profiles,
    ]
    return [
        view.finding(
            "identity",
            "trace_id_mismatch",
            f"{_ITEM_NAMES[type(item)]} from {item.project} belongs to this trace but carries trace_id {item.trace_id}",
            expected=trace_id,
            observed=str(item.trace_id),
            items=[item],
        )
        for item in items
        if item.trace_id != trace_id
    ]


_ITEM_NAMES: dict[type, str] = {TransactionFact: "A transaction", ErrorFact: "An error event", ProfileFact: "A profile"}


def check_errors(view: TraceView) -> list[Finding]:
    """Expected errors arrived, and every error raised inside the trace carries its trace id."""
    findings = []
    errors = [e for e in (*view.errors, *view.joined_errors) if e.trace_id == view.trace_id or e.span_id in view.spans]
    for e in errors:
        if e.trace_id is None:
            message = (
                f"a {e.project} error ({e.exception_type}) raised in span {e.span_id} of this trace has no trace id"
            )
            findings.append(
                view.finding(
                    "errors", "error_without_trace", message, expected=view.trace_id, observed="None", items=[e]
                )
            )
    expectation = view.bundle.expectation
    senders = {e.project for e in errors}
    excused = _never_called(view)  # a service the request never reached raised nothing
    for service in expectation.expect_errors_from if expectation else ():
        if service not in senders and service not in excused:
            findings.append(
                view.finding(
                    "errors",
                    "missing_error",
                    f"{service} sent no error event for this trace",
                    expected=f"an error event from {service}",
                    observed="none",
                    items=view.transactions,
                    service=service,
                )
            )
    return findings


CHECKS: dict[str, Check] = {
    "completeness": check_completeness,
    "linkage": check_linkage,
    "identity": check_identity,
    "dsc": check_dsc,
    "sampling": check_sampling,
    "errors": check_errors,
    "db_spans": check_db_spans,
    "timing": check_timing,
    "witness": check_witnesses,
}


def register_check(name: str, check: Check, kinds: tuple[str, ...]) -> None:
    """Add a check (one trace in, findings out) to every run: its findings count like the
    built-in ones (a finding with `attributed_to` set makes the trace unverified, a note changes
    nothing, anything else fails it). Call it once, at import of the module that defines it."""
    if name in CHECKS:
        raise ValueError(f"a check named {name!r} is already registered")
    CHECKS[name] = check
    FINDING_KINDS[name] = kinds
