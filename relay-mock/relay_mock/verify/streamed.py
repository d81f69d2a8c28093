"""Streamed spans for the verifier: with `trace_lifecycle="stream"` (SENTRY_TRACE_LIFECYCLE=stream)
sentry-python sends no transactions, only `span` items, and a segment span stands where the
transaction stood. This module turns each segment, with the spans under it, into the
TransactionFact the checks already know, so a streamed trace is verified exactly like a
transaction trace.

It wraps `collect` instead of changing it: `collect_with_streamed_spans` collects as before, adds
the segments of the same window, and recounts what is still pending.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Any

import orjson

from relay_mock.store.spans import MAX_SPANS
from relay_mock.verify.collect import SKEW_S, Collected, collect
from relay_mock.verify.model import SpanFact, TraceBundle, TransactionFact

_SPAN_ITEMS = """
SELECT e.project, e.envelope_id, e.received_at, e.header,
       substr(e.raw, i.payload_offset + 1, i.payload_length) AS payload
FROM items i JOIN envelopes e ON e.id = i.envelope_rowid
WHERE i.type = 'span' AND {where}
"""


def collect_with_streamed_spans(
    conn: sqlite3.Connection, *, since: float | None, until: float | None, trace_id: str | None
) -> Collected:
    collected = collect(conn, since=since, until=until, trace_id=trace_id)
    bundles = {bundle.trace_id: bundle for bundle in collected.bundles}
    where, params = _window(since, until, trace_id)
    for tx in streamed_transactions(conn.execute(_SPAN_ITEMS.format(where=where), params)):
        bundle = bundles.get(tx.trace_id or "")
        if bundle is None:
            bundle = bundles[tx.trace_id or ""] = TraceBundle(tx.trace_id or "")
        bundle.transactions.append(tx)
    collected.bundles = sorted(bundles.values(), key=lambda b: b.trace_id)
    collected.pending = sum(
        1
        for bundle in collected.bundles
        if bundle.expectation is not None
        and bundle.expectation.sampled
        and not set(bundle.expectation.expect_services) <= {tx.project for tx in bundle.transactions}
    )
    return collected


def _window(since: float | None, until: float | None, trace_id: str | None) -> tuple[str, list[Any]]:
    """The span items of every trace that happened in the window, as `collect` reads items."""
    if trace_id:
        return "i.trace_id = ?", [trace_id]
    if since is None and until is None:
        return "1", []
    low = (since if since is not None else 0.0) - SKEW_S
    high = (until if until is not None else 1e18) + SKEW_S
    return (
        "i.trace_id IN (SELECT trace_id FROM items WHERE trace_id IS NOT NULL"
        "   AND coalesce(start_ts, end_ts) >= ? AND coalesce(start_ts, end_ts) < ?"
        " UNION SELECT trace_id FROM expectations WHERE started_at >= ? AND started_at < ?)",
        [low, high, low, high],
    )


def streamed_transactions(rows: Any) -> list[TransactionFact]:
    """One TransactionFact per segment span; every other span of the same service and trace goes
    under the segment its parent chain leads to."""
    spans: dict[tuple[str, str], list[tuple[dict[str, Any], Any]]] = defaultdict(list)
    for row in rows:
        try:
            payload = orjson.loads(row["payload"]) if row["payload"] else None
        except orjson.JSONDecodeError:
            continue
        records = payload.get("items") if isinstance(payload, dict) else None
        for span in (records if isinstance(records, list) else [])[:MAX_SPANS]:
            if isinstance(span, dict) and isinstance(span.get("trace_id"), str):
                spans[(row["project"], span["trace_id"])].append((span, row))
    facts = []
    for found in spans.values():
        facts += _segments(found)
    return facts


def _segments(found: list[tuple[dict[str, Any], Any]]) -> list[TransactionFact]:
    parent_of = {str(span.get("span_id")): span.get("parent_span_id") for span, _ in found}
    segments = {str(span.get("span_id")): (span, row) for span, row in found if span.get("is_segment") is True}
    children: dict[str, list[SpanFact]] = defaultdict(list)
    for span, _ in found:
        if span.get("is_segment") is True:
            continue
        owner = _segment_of(str(span.get("span_id")), parent_of, segments)
        if owner is not None:
            children[owner].append(_span_fact(span))
    return [_transaction(span, row, tuple(children[span_id])) for span_id, (span, row) in segments.items()]


def _segment_of(span_id: str, parent_of: dict[str, Any], segments: dict[str, Any]) -> str | None:
    seen = set()
    current: Any = parent_of.get(span_id)
    while isinstance(current, str) and current not in seen:
        if current in segments:
            return current
        seen.add(current)
        current = parent_of.get(current)
    return None


def _transaction(span: dict[str, Any], row: Any, spans: tuple[SpanFact, ...]) -> TransactionFact:
    header = orjson.loads(row["header"]) if row["header"] else {}
    dsc = header.get("trace") if isinstance(header, dict) else None
    return TransactionFact(
        envelope_id=row["envelope_id"],
        event_id=None,
        project=row["project"],
        trace_id=span["trace_id"],
        span_id=_text(span.get("span_id")),
        parent_span_id=_text(span.get("parent_span_id")),
        name=_text(span.get("name")),
        op=_text(_attribute(span, "sentry.op")),
        status=_status(span),
        start=_number(span.get("start_timestamp")),
        end=_number(span.get("end_timestamp")),
        release=_text(_attribute(span, "sentry.release")),
        environment=_text(_attribute(span, "sentry.environment")),
        dsc=dsc if isinstance(dsc, dict) else None,
        received_at=row["received_at"],
        spans=spans,
    )


def _span_fact(span: dict[str, Any]) -> SpanFact:
    return SpanFact(
        str(span.get("span_id") or ""),
        _text(span.get("parent_span_id")),
        _text(_attribute(span, "sentry.op")),
        _text(span.get("name")),
        _number(span.get("start_timestamp")),
        _number(span.get("end_timestamp")),
        _status(span),
    )


def _status(span: dict[str, Any]) -> str | None:
    # Streamed spans know only ok and error; the services keep the detailed status beside it
    # (servicekit.request_span), which is what the transaction's status would have been.
    return _text(_attribute(span, "sentry.status.detail")) or _text(span.get("status"))


def _attribute(span: dict[str, Any], name: str) -> Any:
    attributes = span.get("attributes")
    value = attributes.get(name) if isinstance(attributes, dict) else None
    return value.get("value") if isinstance(value, dict) else value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
