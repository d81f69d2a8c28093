"""Traces as trees: every service's transactions and their spans, joined by parent
span ids, with broken links marked. Pure functions over the store's item rows.

SDKs that stream spans send `span` items instead of transactions; their segment spans
(a service's entry point) stand where a transaction would."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit


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
    children: list[Node] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    broken: str | None = None  # why this node's link to its parent is broken
    external_parent: bool = False
    missing_child: str | None = None  # a call to an instrumented service nobody answered

    def to_dict(self, trace_start: float | None) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "service": self.service,
            "span_id": self.span_id,
            "parent_span_id": self.parent_span_id,
            "op": self.op,
            "description": self.description,
            "start": self.start,
            "end": self.end,
            "offset_ms": _ms(self.start - trace_start) if self.start is not None and trace_start is not None else None,
            "duration_ms": _ms(self.end - self.start) if self.start is not None and self.end is not None else None,
            "status": self.status,
            "envelope_id": self.envelope_id,
            "event_id": self.event_id,
            "release": self.release,
            "broken": self.broken,
            "external_parent": self.external_parent,
            "missing_child": self.missing_child,
            "errors": self.errors,
            "children": [child.to_dict(trace_start) for child in sorted(self.children, key=_start_key)],
        }


def build_trace(trace_id: str, rows: list[dict[str, Any]], services: set[str]) -> dict[str, Any]:
    """Assemble one trace from item rows (transactions, span items and error events).

    `services` are the instrumented services' names: an http.client span whose URL host
    is one of them must be answered by a transaction of that service.
    """
    nodes: list[Node] = []
    errors: list[dict[str, Any]] = []
    dscs: list[dict[str, Any]] = []
    for row in rows:
        if row.get("dsc") and row["dsc"] not in dscs:
            dscs.append(row["dsc"])
        if row["type"] == "transaction":
            nodes.extend(_transaction_nodes(row))
        elif row["type"] == "span":
            nodes.extend(_streamed_nodes(row))
        elif row["type"] == "event":
            errors.append(_error(row))
    by_span = {node.span_id: node for node in nodes if node.span_id}
    transactions = [node for node in nodes if node.kind == "transaction"]
    # The head is the earliest transaction that continues nothing inside this trace: on a
    # coarse clock a child can start in the same microsecond as its caller.
    unlinked = [node for node in transactions if node.parent_span_id not in by_span]
    head = min(unlinked, key=_start_key, default=None)
    roots: list[Node] = []
    broken: list[dict[str, Any]] = []
    for node in nodes:
        parent = by_span.get(node.parent_span_id) if node.parent_span_id else None
        if parent is not None and parent is not node:
            parent.children.append(node)
            continue
        roots.append(node)
        if node is head:
            node.external_parent = node.parent_span_id is not None
        elif node.kind == "transaction" or node.parent_span_id:
            node.broken = (
                f"parent span {node.parent_span_id} is not in this trace"
                if node.parent_span_id
                else "a second root: this transaction has no parent"
            )
            broken.append(_link(node))
    for node in nodes:
        if node.kind == "span" and node.op == "http.client":
            target = _target_service(node.description, services)
            if target and not any(c.kind == "transaction" and c.service == target for c in node.children):
                node.missing_child = f"no {target} transaction answered this call"
                broken.append(_link(node))
    for error in errors:
        owner = by_span.get(error["span_id"]) if error["span_id"] else None
        (owner.errors if owner else []).append(error)
    # Error events count too: a trace of errors alone still has a time.
    starts = [n.start for n in nodes if n.start is not None] + [e["timestamp"] for e in errors if e["timestamp"]]
    ends = [n.end for n in nodes if n.end is not None] + [e["timestamp"] for e in errors if e["timestamp"]]
    trace_start = min(starts) if starts else None
    return {
        "trace_id": trace_id,
        "services": sorted({n.service for n in transactions} | {e["service"] for e in errors}),
        "transactions": len(transactions),
        "errors": errors,
        "error_count": len(errors),
        "start": trace_start,
        "end": max(ends) if ends else None,
        "duration_ms": _ms(max(ends) - trace_start) if ends and trace_start is not None else None,
        "complete": not broken and bool(transactions),
        "broken_links": broken,
        "dsc": dscs,
        "dsc_consistent": len(dscs) <= 1,
        "roots": [root.to_dict(trace_start) for root in sorted(roots, key=_start_key)],
    }


def _transaction_nodes(row: dict[str, Any]) -> list[Node]:
    summary = row.get("summary") or {}
    root = Node(
        kind="transaction",
        service=row["project"],
        span_id=row["span_id"],
        parent_span_id=row["parent_span_id"],
        op=row["op"],
        description=row["name"],
        start=row["start_ts"],
        end=row["end_ts"],
        status=row["status"],
        envelope_id=row["envelope_id"],
        event_id=row["event_id"],
        release=row["release"],
    )
    return [root, *(_span_node(row, span) for span in summary.get("spans", []))]


def _streamed_nodes(row: dict[str, Any]) -> list[Node]:
    summary = row.get("summary") or {}
    return [
        _span_node(row, span, kind="transaction" if span.get("segment") else "span", release=span.get("release"))
        for span in summary.get("spans", [])
    ]


def _span_node(row: dict[str, Any], span: dict[str, Any], *, kind: str = "span", release: str | None = None) -> Node:
    """A node for one span read out of the row's payload (store/spans.py shapes them)."""
    return Node(
        kind=kind,
        service=row["project"],
        span_id=span.get("span_id"),
        parent_span_id=span.get("parent_span_id"),
        op=span.get("op"),
        description=span.get("description"),
        start=span.get("start"),
        end=span.get("end"),
        status=span.get("status"),
        envelope_id=row["envelope_id"],
        release=release or (row["release"] if kind == "transaction" else None),
    )


def _error(row: dict[str, Any]) -> dict[str, Any]:
    summary = row.get("summary") or {}
    exceptions = summary.get("exceptions") or []
    last = exceptions[-1] if exceptions else {}
    return {
        "event_id": row["event_id"],
        "envelope_id": row["envelope_id"],
        "service": row["project"],
        "span_id": row["span_id"],
        "level": row["level"],
        "type": last.get("type"),
        "value": last.get("value") or summary.get("message"),
        "transaction": row["name"],
        "timestamp": row["end_ts"],
    }


def _link(node: Node) -> dict[str, Any]:
    return {
        "service": node.service,
        "kind": node.kind,
        "span_id": node.span_id,
        "parent_span_id": node.parent_span_id,
        "description": node.description,
        "envelope_id": node.envelope_id,
        "reason": node.broken or node.missing_child,
    }


def _target_service(description: str | None, services: set[str]) -> str | None:
    if not description:
        return None
    url = description.split(" ", 1)[-1]
    host = urlsplit(url).hostname
    return host if host in services else None


def _start_key(node: Node) -> float:
    return node.start if node.start is not None else float("inf")


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)
