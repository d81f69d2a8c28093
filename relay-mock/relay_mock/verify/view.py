"""One trace as the checks see it: its spans indexed by id, its calls to the downstream service,
and the items filed under another trace id that belong to it by span linkage.

Built once per trace so every check is a dictionary lookup, and built over all bundles at once
because a broken hop shows up as an item filed under the wrong trace id.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from relay_mock.verify.model import ErrorFact, ProfileFact, SpanFact, TraceBundle, TransactionFact, VerifyConfig
from relay_mock.verify.report import Finding

Item = TransactionFact | ErrorFact | ProfileFact


@dataclass(slots=True)
class TraceView:
    bundle: TraceBundle
    config: VerifyConfig
    # Every span id of the trace's own transactions (their root spans included) -> its transaction.
    spans: dict[str, TransactionFact]
    # The head service's http.client spans to the downstream service, by span id.
    calls: dict[str, tuple[TransactionFact, SpanFact]]
    # The transactions and errors filed here that belong to this trace (not claimed by another).
    transactions: list[TransactionFact]
    errors: list[ErrorFact]
    # Items filed under another trace id whose parent span (or active span) is one of ours.
    joined: list[TransactionFact] = field(default_factory=list)
    joined_errors: list[ErrorFact] = field(default_factory=list)
    # Child transactions (ours and joined ones) per call span id.
    children: dict[str, list[TransactionFact]] = field(default_factory=dict)
    # The earliest transaction of the head service; its parent is the external caller.
    root: TransactionFact | None = None
    # The trace's DSC as its head sent it: the root's, else the first one that arrived.
    dsc: dict[str, Any] | None = None
    # Calls whose downstream transaction arrived as the root of a trace of its own (the call
    # carried no usable trace headers): call span id -> that transaction.
    adopted: dict[str, TransactionFact] = field(default_factory=dict)
    # Set on a trace that is nothing but such an adopted transaction: the caller's trace id.
    adopted_by: str | None = None

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
    def envelopes(self) -> list[TransactionFact | ErrorFact]:
        """The trace's own items that arrived with an envelope header (and so, maybe, a DSC)."""
        return [*self.transactions, *self.errors]

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
            attributed_to=None,
            ui_url=f"{self.config.ui_base_url.rstrip('/')}/#/traces/{self.trace_id}",
            service=service,
        )


def build_views(bundles: Sequence[TraceBundle], config: VerifyConfig) -> list[TraceView]:
    views = [_view(bundle, config) for bundle in bundles]
    _link(views)
    for view in views:
        _finish(view)
    _adopt(views, config)
    return views


def is_call(span: SpanFact, config: VerifyConfig) -> bool:
    return span.op == "http.client" and config.downstream_url_marker in (span.description or "")


def _view(bundle: TraceBundle, config: VerifyConfig) -> TraceView:
    spans: dict[str, TransactionFact] = {}
    calls: dict[str, tuple[TransactionFact, SpanFact]] = {}
    for tx in bundle.transactions:
        if tx.span_id is not None:
            spans[tx.span_id] = tx
        for span in tx.spans:
            spans[span.span_id] = tx
        if tx.project == config.head_service:
            calls.update((span.span_id, (tx, span)) for span in tx.spans if is_call(span, config))
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
    head = view.config.head_service
    for tx in view.transactions:
        if tx.project == head and (view.root is None or _start(tx) < _start(view.root)):
            view.root = tx
    if view.root is not None and view.root.dsc is not None:
        view.dsc = view.root.dsc
    else:
        view.dsc = next((item.dsc for item in view.envelopes if item.dsc is not None), None)


def _start(tx: TransactionFact) -> float:
    return tx.start if tx.start is not None else tx.received_at


def _adopt(views: list[TraceView], config: VerifyConfig) -> None:
    """Pair calls nobody answered with downstream transactions that started a trace of their own.

    When the caller's trace headers never reach downstream, downstream starts a new trace: the
    call's child exists but is not linked. A downstream-only trace whose transaction has no parent
    and lies inside an unanswered call span (in time) is that child; the pairing turns two vague
    symptoms (a missing transaction here, a headless trace there) into one precise finding.
    """
    tol = config.clock_skew_tolerance_s
    orphans = sorted(
        (
            (tx.start, tx, view)
            for view in views
            if view.root is None and len(view.transactions) == 1
            for tx in view.transactions
            if tx.project == config.downstream_service and tx.parent_span_id is None and tx.start is not None
        ),
        key=lambda entry: entry[0],
    )
    if not orphans:
        return
    starts = [entry[0] for entry in orphans]
    taken: set[int] = set()
    for view in views:
        for span_id, (_, call) in view.calls.items():
            if span_id in view.children or call.start is None or call.end is None:
                continue
            index = bisect.bisect_left(starts, call.start - tol)
            while index < len(orphans) and starts[index] <= call.end + tol:
                _, tx, home = orphans[index]
                if id(tx) not in taken and (tx.end is None or tx.end <= call.end + tol):
                    taken.add(id(tx))
                    view.adopted[span_id] = tx
                    home.adopted_by = view.trace_id
                    break
                index += 1
