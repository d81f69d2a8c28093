"""One trace as the checks see it: its spans indexed by id, its outgoing calls and the child
each owes, and the items filed under another trace id that belong to it by span linkage.

The call graph comes from the data alone: every span whose op is a call op (`http.client`, and
any op `VerifyConfig.call_ops` names) that reached a service owes exactly one server transaction
(or streamed segment) with that span as its parent, from whichever project. Built once per trace
so every check is a dictionary lookup, and built over all bundles at once because a broken hop
shows up as an item filed under the wrong trace id.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from relay_mock.verify.model import (
    ErrorFact,
    FormatBreak,
    ProfileFact,
    SpanFact,
    TraceBundle,
    TransactionFact,
    VerifyConfig,
    WitnessFact,
)
from relay_mock.verify.report import Finding

Item = TransactionFact | ErrorFact | ProfileFact
# Span statuses that say the call got no answer, when no response status was recorded either.
NO_ANSWER = frozenset(
    {"internal_error", "deadline_exceeded", "unavailable", "aborted", "cancelled", "unknown_error", "error"}
)


@dataclass(slots=True)
class TraceView:
    bundle: TraceBundle
    config: VerifyConfig
    # Every span id of the trace's own transactions (their root spans included) -> its transaction.
    spans: dict[str, TransactionFact]
    # Every outgoing call span of the trace, by span id, with the transaction that made it.
    calls: dict[str, tuple[TransactionFact, SpanFact]]
    # The transactions and errors filed here that belong to this trace (not claimed by another).
    transactions: list[TransactionFact]
    errors: list[ErrorFact]
    # Items filed under another trace id whose parent span (or active span) is one of ours.
    joined: list[TransactionFact] = field(default_factory=list)
    joined_errors: list[ErrorFact] = field(default_factory=list)
    # Child transactions (ours and joined ones) per call span id.
    children: dict[str, list[TransactionFact]] = field(default_factory=dict)
    # Calls that never reached a service (no response, an error status, no witness): they owe nothing.
    not_reached: dict[str, tuple[TransactionFact, SpanFact]] = field(default_factory=dict)
    # The head: the earliest transaction that continues an external caller or starts the trace.
    root: TransactionFact | None = None
    # The trace's DSC as its head sent it: the root's, else the first one that arrived.
    dsc: dict[str, Any] | None = None
    # Calls whose child arrived as the root of a trace of its own (the call carried no usable
    # trace headers): call span id -> that transaction.
    adopted: dict[str, TransactionFact] = field(default_factory=dict)
    # Set on a trace that is nothing but such an adopted transaction: the caller's trace id.
    adopted_by: str | None = None
    # Which project answers a call, by the call's target host, learned from the whole run.
    targets: dict[str, str] = field(default_factory=dict)
    # The projects whose calls were answered somewhere in the run: services that send
    # transactions and call others (a load generator or a browser heading traces is not one).
    callers: frozenset[str] = frozenset()
    # Calls (and the head's request) whose callee did not continue the context because it came
    # in a format the callee does not read (`relay_mock.verify.propagation`).
    format_breaks: list[FormatBreak] = field(default_factory=list)
    format_calls: set[str] = field(default_factory=set)  # their call span ids
    format_witnesses: set[int] = field(default_factory=set)  # ids of the witnesses they explain
    head_split: bool = False  # the head's service started a trace of its own

    @property
    def trace_id(self) -> str:
        return self.bundle.trace_id

    @property
    def scenario(self) -> str | None:
        return self.bundle.expectation.scenario if self.bundle.expectation else None

    @property
    def sampled(self) -> bool:
        """Whether the trace should have been recorded: the caller's word when there is one."""
        if self.bundle.expectation is not None:
            return self.bundle.expectation.sampled
        dsc = self.dsc
        return dsc is None or str(dsc.get("sampled")).lower() != "false"

    @property
    def started_at(self) -> float:
        """When the trace began, for matching drops to it."""
        if self.bundle.expectation is not None:
            return self.bundle.expectation.started_at
        times = [t.start if t.start is not None else t.received_at for t in self.bundle.transactions]
        times += [e.received_at for e in self.bundle.errors]
        return min(times, default=0.0)

    @property
    def ended_at(self) -> float:
        """When the trace ended, as far as anything tells: the caller's answer, the last end."""
        times = [self.started_at]
        exp = self.bundle.expectation
        if exp is not None and exp.ended_at is not None:
            times.append(exp.ended_at)
        times += [t.end for t in self.bundle.transactions if t.end is not None]
        return max(times)

    @property
    def witnesses(self) -> tuple[WitnessFact, ...] | None:
        exp = self.bundle.expectation
        return exp.witnesses if exp is not None else None

    @property
    def envelopes(self) -> list[TransactionFact | ErrorFact]:
        """The trace's own items that arrived with an envelope header (and so, maybe, a DSC)."""
        return [*self.transactions, *self.errors]

    @property
    def head_service(self) -> str | None:
        """The service the external caller called: the first the caller expected; for a trace
        found in the store only, the project whose public key the DSC names (the head froze
        it), else the head transaction's."""
        exp = self.bundle.expectation
        if exp is not None and exp.expect_services:
            return exp.expect_services[0]
        key = self.dsc.get("public_key") if self.dsc is not None else None
        if key is not None:
            for name, public_key in self.config.public_keys.items():
                if public_key == key:
                    return name
        return self.root.project if self.root is not None else None

    def target(self, span: SpanFact) -> str | None:
        """The project a call should reach: learned from answered calls to the same host."""
        return self.targets.get(host_of(span) or "")

    def finding(
        self,
        check: str,
        kind: str,
        message: str,
        *,
        expected: str,
        observed: str,
        items: Iterable[Item] = (),
        service: str | None = None,
        note: bool = False,
        span_id: str | None = None,
        attributed_to: str | None = None,
        other_trace_id: str | None = None,
    ) -> Finding:
        return Finding(
            check=check,
            kind=kind,
            trace_id=self.trace_id,
            message=message,
            expected=expected,
            observed=observed,
            envelope_ids=tuple(sorted({item.envelope_id for item in items})),
            scenario=self.scenario,
            attributed_to=attributed_to,
            ui_url=f"{self.config.ui_base_url.rstrip('/')}/#/traces/{self.trace_id}",
            service=service,
            note=note,
            span_id=span_id,
            other_trace_id=other_trace_id,
        )


def build_views(bundles: Sequence[TraceBundle], config: VerifyConfig) -> list[TraceView]:
    views = [_view(bundle, config) for bundle in bundles]
    _link(views)
    for view in views:
        _finish(view)
    targets = _learn_targets(views, config)
    callers = frozenset(view.calls[span_id][0].project for view in views for span_id in view.children)
    for view in views:
        view.targets, view.callers = targets, callers
    return views


def host_of(span: SpanFact) -> str | None:
    """The host:port an HTTP call went to, from its description ("POST http://host:port/path")."""
    description = span.description
    if not description:
        return None
    url = description.rsplit(" ", 1)[-1]
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return parts.netloc or None


def _view(bundle: TraceBundle, config: VerifyConfig) -> TraceView:
    spans: dict[str, TransactionFact] = {}
    calls: dict[str, tuple[TransactionFact, SpanFact]] = {}
    ops = config.call_ops
    for tx in bundle.transactions:
        if tx.span_id is not None:
            spans[tx.span_id] = tx
        for span in tx.spans:
            spans[span.span_id] = tx
            if span.op in ops:
                calls[span.span_id] = (tx, span)
    return TraceView(bundle, config, spans, calls, list(bundle.transactions), list(bundle.errors))


def _link(views: list[TraceView]) -> None:
    """Move every item whose parent span lives in another trace over to that trace, as joined.

    Span ids are random 64-bit values, so a span id found in another trace is that trace's span.
    A local match always wins, so reused ids in crafted data cannot pull items away.
    """
    # The references a trace cannot resolve by itself, about one per trace (the root's caller):
    # far fewer than spans, so look them up in each trace rather than index every span.
    dangling: dict[str, list[tuple[TraceView, TransactionFact | ErrorFact]]] = {}
    for view in views:
        for tx in view.transactions:
            if tx.parent_span_id is not None and tx.parent_span_id not in view.spans:
                dangling.setdefault(tx.parent_span_id, []).append((view, tx))
        for error in view.errors:
            if error.span_id is not None and error.span_id not in view.spans:
                dangling.setdefault(error.span_id, []).append((view, error))
    unresolved = set(dangling)
    moved: dict[int, TraceView] = {}  # id of a moved item -> the view it left
    for home in views:
        if unresolved.isdisjoint(home.spans):
            continue
        for span_id in unresolved.intersection(home.spans):
            unresolved.discard(span_id)  # the first trace that holds the span owns it
            for origin, item in dangling[span_id]:
                if isinstance(item, TransactionFact):
                    home.joined.append(item)
                else:
                    home.joined_errors.append(item)
                moved[id(item)] = origin
    for origin in {id(v): v for v in moved.values()}.values():
        origin.transactions = [tx for tx in origin.transactions if id(tx) not in moved]
        origin.errors = [e for e in origin.errors if id(e) not in moved]


def _finish(view: TraceView) -> None:
    for child in (*view.transactions, *view.joined):
        if child.parent_span_id in view.calls:
            view.children.setdefault(child.parent_span_id, []).append(child)
    for tx in view.transactions:
        # The head continues an external caller (its parent is not in the trace) or starts it.
        if tx.parent_span_id is not None and tx.parent_span_id in view.spans:
            continue
        if view.root is None or _start(tx) < _start(view.root):
            view.root = tx
    if view.root is not None and view.root.dsc is not None:
        view.dsc = view.root.dsc
    else:
        view.dsc = next((item.dsc for item in view.envelopes if item.dsc is not None), None)
    if len(view.children) < len(view.calls):
        _unreached(view)


def _unreached(view: TraceView) -> None:
    """Calls nobody answered that never reached a service: no response came back, the span says
    the call failed, and no witness (when the caller recorded them) says a service received it."""
    witnessed = _witnessed_parents(view.witnesses)
    for span_id, (tx, span) in view.calls.items():
        if span_id in view.children or span.http_status is not None or span.status not in NO_ANSWER:
            continue
        if witnessed is not None and span_id in witnessed:
            continue
        view.not_reached[span_id] = (tx, span)


def _witnessed_parents(witnesses: tuple[WitnessFact, ...] | None) -> set[str] | None:
    if witnesses is None:
        return None
    return {parent for w in witnesses if (parent := w.parts[1]) is not None}


def _start(tx: TransactionFact) -> float:
    return tx.start if tx.start is not None else tx.received_at


def _learn_targets(views: list[TraceView], config: VerifyConfig) -> dict[str, str]:
    """Which project answers calls to which host: the most frequent child project per host, over
    every answered call of the run (and, as a last resort, a host named like a project). A call
    to a host neither tells is a call out of the sandbox: it owes nothing."""
    seen: dict[str, Counter[str]] = {}
    for view in views:
        for span_id, children in view.children.items():
            host = host_of(view.calls[span_id][1])
            if host is not None:
                seen.setdefault(host, Counter()).update(child.project for child in children)
    targets = {host: counts.most_common(1)[0][0] for host, counts in seen.items()}
    names = set(config.project_ids) | set(config.public_keys)
    for view in views:
        for _, span in view.calls.values():
            host = host_of(span)
            if host is not None and host not in targets:
                name = host.split(":", 1)[0]
                if name in names:
                    targets[host] = name
    return targets


def adopt(views: list[TraceView], config: VerifyConfig) -> None:
    """Pair calls nobody answered with transactions that started a trace of their own.

    When the caller's trace headers never reach the callee, it starts a new trace: the call's
    child exists but is not linked. A trace nobody expected whose head has no parent, of
    the project the call's host is answered by, lying inside an unanswered call span (in time), is
    that child; the pairing turns two vague symptoms (a missing transaction here, a headless trace
    there) into one precise finding.
    """
    tol = config.clock_skew_tolerance_s
    orphans = sorted(
        (
            (tx.start, tx, view)
            for view in views
            if view.bundle.expectation is None and view.adopted_by is None and (tx := view.root) is not None
            if tx.parent_span_id is None and tx.start is not None
        ),
        key=lambda entry: entry[0],
    )
    if not orphans:
        return
    starts = [entry[0] for entry in orphans]
    taken: set[int] = set()
    for view in views:
        for span_id, (_, call) in view.calls.items():
            if span_id in view.children or span_id in view.not_reached or call.start is None or call.end is None:
                continue
            if span_id in view.format_calls:
                continue
            target = view.target(call)
            index = bisect.bisect_left(starts, call.start - tol)
            while index < len(orphans) and starts[index] <= call.end + tol:
                _, tx, home = orphans[index]
                fits = target is None or tx.project == target
                if fits and id(tx) not in taken and home is not view and (tx.end is None or tx.end <= call.end + tol):
                    taken.add(id(tx))
                    view.adopted[span_id] = tx
                    home.adopted_by = view.trace_id
                    break
                index += 1
