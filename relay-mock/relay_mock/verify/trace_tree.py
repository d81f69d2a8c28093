"""Traces as trees for the UI, `/inspect/traces` and the MCP tools: every service's
transactions (or streamed segments) and their spans, joined by parent span ids.

Built from the verifier's facts (`relay_mock.verify.collect`) and marked with the verifier's
findings for the trace, so the waterfall, the API and `make verify-traces` share one idea of a
broken link: the call that owes a child, the transaction hung on the wrong parent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from relay_mock import models
from relay_mock.verify.model import ErrorFact, SpanFact, TraceBundle, TransactionFact
from relay_mock.verify.report import Finding, Report


@dataclass
class Node:
    kind: str  # transaction | span
    service: str
    span_id: str | None
    parent_span_id: str | None
    op: str | None
    description: str | None
    start: float | None
    end: float | None
    status: str | None
    envelope_id: str
    event_id: str | None = None
    release: str | None = None
    sdk: str | None = None
    children: list[Node] = field(default_factory=list)
    errors: list[models.TraceError] = field(default_factory=list)
    broken: str | None = None  # why this node's link to its parent is broken
    external_parent: bool = False
    missing_child: str | None = None  # a call nobody answered (the verifier's finding)
    otlp_resource: dict[str, Any] | None = None  # the resource of a span that came over OTLP

    def to_model(self, trace_start: float | None) -> models.TraceNode:
        return models.TraceNode(
            kind=self.kind,
            service=self.service,
            span_id=self.span_id,
            parent_span_id=self.parent_span_id,
            op=self.op,
            description=self.description,
            start=self.start,
            end=self.end,
            offset_ms=_ms(self.start - trace_start) if self.start is not None and trace_start is not None else None,
            duration_ms=_ms(self.end - self.start) if self.start is not None and self.end is not None else None,
            status=self.status,
            envelope_id=self.envelope_id,
            event_id=self.event_id,
            release=self.release,
            sdk=self.sdk,
            broken=self.broken,
            external_parent=self.external_parent,
            missing_child=self.missing_child,
            ingest="otlp" if self.otlp_resource is not None else None,
            resource=self.otlp_resource,
            errors=self.errors,
            children=[child.to_model(trace_start) for child in sorted(self.children, key=_start_key)],
        )


# Findings that mark a node: about the link to its parent, or about a call it made.
LINK_KINDS = frozenset({"orphan", "wrong_parent"})
CALL_KINDS = frozenset({"missing_transaction", "propagation_lost", "propagation_format", "duplicate_child"})
# A split trace: the caller's trace holds the finding, the trace the callee started links back.
SPLIT_KINDS = frozenset({"propagation_format"})


def build_trace(bundle: TraceBundle, report: Report | None = None) -> models.Trace:
    """One trace as a tree, with the verifier's verdict and findings when `report` is given
    (a report of a run that included this trace)."""
    nodes: list[Node] = []
    for tx in bundle.transactions:
        nodes.extend(_transaction_nodes(tx))
    errors = [_error(e) for e in bundle.errors]
    dscs: list[dict[str, Any]] = []
    for dsc in [tx.dsc for tx in bundle.transactions] + [e.dsc for e in bundle.errors]:
        if dsc and dsc not in dscs:
            dscs.append(dsc)
    by_span: dict[str | None, Node] = {node.span_id: node for node in nodes if node.span_id}
    transactions = [node for node in nodes if node.kind == "transaction"]
    roots: list[Node] = []
    for node in nodes:
        parent = by_span.get(node.parent_span_id) if node.parent_span_id else None
        if parent is not None and parent is not node:
            parent.children.append(node)
        else:
            roots.append(node)
    findings = [f for f in report.findings if f.trace_id == bundle.trace_id] if report is not None else []
    broken = _mark(findings, by_span)
    if report is not None:
        broken += _mark_split(bundle.trace_id, report, transactions, by_span)
    for node in roots:
        node.external_parent = node.parent_span_id is not None and node.broken is None
    for error in errors:
        owner = by_span.get(error.span_id) if error.span_id else None
        (owner.errors if owner else []).append(error)
    # Error events count too: a trace of errors alone still has a time.
    stamps = [e.timestamp for e in errors if e.timestamp]
    starts = [n.start for n in nodes if n.start is not None] + stamps
    ends = [n.end for n in nodes if n.end is not None] + stamps
    trace_start = min(starts) if starts else None
    verdict = report.verdict_of(bundle.trace_id) if report is not None else None
    return models.Trace(
        trace_id=bundle.trace_id,
        services=sorted({n.service for n in transactions} | {e.service for e in errors if e.service is not None}),
        transactions=len(transactions),
        errors=errors,
        error_count=len(errors),
        start=trace_start,
        end=max(ends) if ends else None,
        duration_ms=_ms(max(ends) - trace_start) if ends and trace_start is not None else None,
        complete=bool(transactions) and verdict is not None and verdict.verdict == "verified",
        broken_links=broken,
        dsc=dscs,
        dsc_consistent=len(dscs) <= 1,
        roots=[root.to_model(trace_start) for root in sorted(roots, key=_start_key)],
        sdks=_sdks(transactions),
        verification=models.TraceVerification(
            verdict=verdict.verdict if verdict is not None else None,
            causes=list(verdict.causes) if verdict is not None else [],
            findings=findings,
        ),
    )


def _sdks(transactions: list[Node]) -> dict[str, list[str]]:
    found: dict[str, set[str]] = {}
    for node in transactions:
        if node.sdk:
            found.setdefault(node.service, set()).add(node.sdk)
    return {service: sorted(sdks) for service, sdks in sorted(found.items())}


def _mark(findings: list[Finding], by_span: dict[str | None, Node]) -> list[models.BrokenLink]:
    """Mark the nodes the verifier's findings are about; the broken links for the page's list."""
    broken = []
    for f in findings:
        node = by_span.get(f.span_id) if f.span_id else None
        if node is not None and f.kind in LINK_KINDS:
            node.broken = f.message
        elif node is not None and f.kind in CALL_KINDS:
            node.missing_child = f.message
        elif f.kind not in CALL_KINDS | LINK_KINDS:
            continue  # content findings (DSC, timing, db spans) are listed with the verdict
        broken.append(
            models.BrokenLink(
                service=node.service if node is not None else f.service,
                kind=node.kind if node is not None else None,
                span_id=f.span_id,
                parent_span_id=node.parent_span_id if node is not None else None,
                description=node.description if node is not None else None,
                envelope_id=node.envelope_id if node is not None else next(iter(f.envelope_ids), None),
                reason=f.message,
                verdict="unverified" if f.is_unverified else "failed",
                attributed_to=f.attributed_to,
                other_trace_id=f.other_trace_id,
            )
        )
    return broken


def _mark_split(
    trace_id: str, report: Report, transactions: list[Node], by_span: dict[str | None, Node]
) -> list[models.BrokenLink]:
    """In the trace a callee started because it did not read the caller's context: the link
    back to the caller's trace, on the callee's root (the finding itself is the caller's)."""
    broken = []
    for f in report.findings:
        if f.kind not in SPLIT_KINDS or f.other_trace_id != trace_id or f.trace_id == trace_id:
            continue
        roots = [
            n
            for n in transactions
            if n.service == f.service and (n.parent_span_id is None or n.parent_span_id not in by_span)
        ]
        node = min(roots, key=_start_key, default=None)
        reason = (
            f"{f.service} did not continue trace {f.trace_id} (the caller's context came in a format it does not"
            f" read) and started this trace: {f.message}"
        )
        if node is not None:
            node.broken = reason
        broken.append(
            models.BrokenLink(
                service=f.service,
                kind=node.kind if node is not None else None,
                span_id=node.span_id if node is not None else None,
                parent_span_id=node.parent_span_id if node is not None else None,
                description=node.description if node is not None else None,
                envelope_id=node.envelope_id if node is not None else None,
                reason=reason,
                verdict="unverified" if f.is_unverified else "failed",
                attributed_to=f.attributed_to,
                other_trace_id=f.trace_id,
            )
        )
    return broken


def _transaction_nodes(tx: TransactionFact) -> list[Node]:
    root = Node(
        kind="transaction",
        service=tx.project,
        span_id=tx.span_id,
        parent_span_id=tx.parent_span_id,
        op=tx.op,
        description=tx.name,
        start=tx.start,
        end=tx.end,
        status=tx.status,
        envelope_id=tx.envelope_id,
        event_id=tx.event_id,
        release=tx.release,
        sdk=tx.sdk,
        otlp_resource=tx.otlp_resource,
    )
    return [root, *(_span_node(tx, span) for span in tx.spans)]


def _span_node(tx: TransactionFact, span: SpanFact) -> Node:
    return Node(
        kind="span",
        service=tx.project,
        span_id=span.span_id or None,
        parent_span_id=span.parent_span_id,
        op=span.op,
        description=span.description,
        start=span.start,
        end=span.end,
        status=span.status,
        envelope_id=tx.envelope_id,
        otlp_resource=span.otlp_resource,
    )


def _error(error: ErrorFact) -> models.TraceError:
    return models.TraceError(
        event_id=error.event_id,
        envelope_id=error.envelope_id,
        service=error.project,
        span_id=error.span_id,
        level=error.level,
        type=error.exception_type,
        value=error.message,
        transaction=error.transaction,
        timestamp=error.timestamp,
    )


def _start_key(node: Node) -> float:
    return node.start if node.start is not None else float("inf")


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)
