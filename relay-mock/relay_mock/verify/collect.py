"""From the store to the verifier's facts: every transaction (or streamed segment), error event
and profile that arrived in the window, grouped per trace, with the expectations (ground truth)
recorded for it, the SDKs' client reports and relay-mock's refusals."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from relay_mock.store.client_reports import client_reports_since
from relay_mock.store.error_events import headline
from relay_mock.store.expectations import expectation_rows, expectations_of
from relay_mock.store.refusals import refusals_between
from relay_mock.store.related import traces_open_at, traces_starting
from relay_mock.store.traces import SKEW_S, trace_items, window_items
from relay_mock.verify.expectation_rows import from_row
from relay_mock.verify.heap import collector_paused
from relay_mock.verify.model import (
    ClientReportFact,
    ErrorFact,
    ProfileFact,
    RefusalFact,
    SpanFact,
    TraceBundle,
    TransactionFact,
)
from relay_mock.verify.span_facts import StreamedSpan, streamed_spans, transaction_spans

# A row of store.traces.ITEMS_SQL, or a dict shaped like one.
RowLike = Mapping[str, Any] | sqlite3.Row
# Client reports and refusals explain losses in the window: read a margin either side of it.
MARGIN_S = 5.0
REFUSAL_DELAY_S = 60.0


@dataclass
class Collected:
    bundles: list[TraceBundle]
    client_reports: list[ClientReportFact]
    refusals: list[RefusalFact]
    pending: int  # sampled expected traces still missing a transaction (worth waiting for)


def collect(
    conn: sqlite3.Connection,
    *,
    since: float | None,
    until: float | None,
    trace_id: str | None,
    trace_ids: list[str] | None = None,
    related: bool = False,
) -> Collected:
    """Everything in the window, or the traces named (`trace_id`, or several `trace_ids`: the
    trace pages of the UI and the MCP tools read them through the same code as the verifier).

    The traces a witness names are read too. With `related`, so are the traces that may be the
    other half of a split trace (`relay_mock.store.related`): a trace page shows a
    propagation-format break from either side."""
    # Hundreds of thousands of small objects: without pausing the collector, it rescans the
    # growing heap again and again and takes most of the time.
    with collector_paused():
        ids = trace_ids if trace_ids is not None else ([trace_id] if trace_id else None)
        return _collect(conn, since=since, until=until, trace_ids=ids, related=related)


def _collect(
    conn: sqlite3.Connection,
    *,
    since: float | None,
    until: float | None,
    trace_ids: list[str] | None,
    related: bool = False,
) -> Collected:
    if trace_ids is None:
        rows = expectation_rows(conn, since=since, until=until, trace_id=None, limit=None)
    else:
        rows = expectations_of(conn, trace_ids)
    expectations = {row["trace_id"]: from_row(row) for row in rows}
    bundles: dict[str, TraceBundle] = {tid: TraceBundle(tid, expectation=e) for tid, e in expectations.items()}
    items = window_items(conn, since=since, until=until) if trace_ids is None else trace_items(conn, trace_ids)
    detached: list[tuple[TraceBundle, str, SpanFact]] = []
    for row in items:
        _add(bundles, row, detached)
    others = _witnessed_traces(bundles) | (_related_traces(conn, bundles) if related else set())
    others -= set(bundles)
    if others:
        wanted = sorted(others)
        for row in expectations_of(conn, wanted):
            bundles[row["trace_id"]] = TraceBundle(row["trace_id"], expectation=from_row(row))
        for row in trace_items(conn, wanted):
            _add(bundles, row, detached)
    _attach(detached)
    if since is None and trace_ids is not None:
        # The drops that may explain these traces' losses come after they started.
        starts = [t.start for b in bundles.values() for t in b.transactions if t.start is not None]
        starts += [b.expectation.started_at for b in bundles.values() if b.expectation is not None]
        since = min(starts, default=None)
    client_reports = _client_reports(conn, since)
    # The verifier bounds every drop by its trace's window; the margins here only keep the reads small.
    refusals = [
        RefusalFact(row[0], row[1], row[2], row[3], bool(row[4]), _types(row[5]))
        for row in refusals_between(
            conn, (since or 0) - MARGIN_S, (until + REFUSAL_DELAY_S) if until is not None else 1e18
        )
    ]
    pending = sum(
        1
        for bundle in bundles.values()
        if bundle.expectation is not None
        and bundle.expectation.sampled
        and not set(bundle.expectation.expect_services) <= {tx.project for tx in bundle.transactions}
    )
    return Collected(sorted(bundles.values(), key=lambda b: b.trace_id), client_reports, refusals, pending)


def _witnessed_traces(bundles: dict[str, TraceBundle]) -> set[str]:
    """The traces the expected traces' witnesses say a service joined instead (a split)."""
    return {
        w.trace_id
        for b in bundles.values()
        if b.expectation is not None and b.expectation.witnesses
        for w in b.expectation.witnesses
        if w.trace_id and w.trace_id != b.trace_id
    }


def _related_traces(conn: sqlite3.Connection, bundles: dict[str, TraceBundle]) -> set[str]:
    """Where the other half of a split trace may be: traces whose root starts inside a call
    nobody answered (or inside an expected request whose head never arrived); traces and
    expected requests open when one of these traces' roots without a parent started."""
    found: set[str] = set()
    for bundle in list(bundles.values()):
        exp = bundle.expectation
        projects = {tx.project for tx in bundle.transactions}
        if exp is not None and exp.expect_services and exp.expect_services[0] not in projects:
            found.update(traces_starting(conn, exp.started_at - SKEW_S, (exp.ended_at or exp.started_at) + SKEW_S))
        parents = {tx.parent_span_id for tx in bundle.transactions}
        for tx in bundle.transactions:
            for span in tx.spans:
                if span.op == "http.client" and span.span_id not in parents and span.start is not None:
                    found.update(traces_starting(conn, span.start - SKEW_S, (span.end or span.start) + SKEW_S))
            if tx.start is not None and tx.parent_span_id is None:
                # A root that continued nobody: maybe a callee that did not read its caller's context.
                found.update(traces_open_at(conn, tx.start, bundle.trace_id, SKEW_S))
    return found


def bundles_from_rows(rows: Iterable[RowLike]) -> list[TraceBundle]:
    """Bundles from item rows shaped like store.traces.ITEMS_SQL's (what tests and tools without a store use)."""
    bundles: dict[str, TraceBundle] = {}
    detached: list[tuple[TraceBundle, str, SpanFact]] = []
    for row in rows:
        _add(bundles, row, detached)
    _attach(detached)
    return sorted(bundles.values(), key=lambda b: b.trace_id)


def _types(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    types = orjson.loads(value)
    return tuple(str(t) for t in types) if isinstance(types, list) else None


def _add(bundles: dict[str, TraceBundle], row: RowLike, detached: list[tuple[TraceBundle, str, SpanFact]]) -> None:
    kind = row["type"]
    trace = row["trace_id"] or ""
    if kind == "span":
        # Its spans name their own traces (an OTLP request's item may have none of its own).
        _segments(bundles, trace, row, detached)
        return
    bundle = _bundle_of(bundles, trace)
    if kind == "transaction":
        bundle.transactions.append(_transaction(row))
    elif kind == "event":
        bundle.errors.append(_error(row))
    elif kind == "profile":
        bundle.profiles.append(ProfileFact(row["envelope_id"], row["project"], _profile_trace(row), row["received_at"]))


def _dsc(row: RowLike) -> dict[str, Any] | None:
    header = orjson.loads(row["header"])
    trace = header.get("trace") if isinstance(header, dict) else None
    return trace if isinstance(trace, dict) else None


def _sdk(row: RowLike) -> str | None:
    """The SDK that sent the envelope (X-Sentry-Auth's sentry_client), when the row has it."""
    try:
        sdk = row["sdk_client"]
    except (KeyError, IndexError):
        return None
    return sdk if isinstance(sdk, str) and sdk else None


def _transaction(row: RowLike) -> TransactionFact:
    try:
        event = orjson.loads(row["payload"]) if row["payload"] else {}
    except orjson.JSONDecodeError:
        event = {}
    spans = transaction_spans(event.get("spans") if isinstance(event, dict) else None)
    return TransactionFact(
        envelope_id=row["envelope_id"],
        event_id=row["event_id"],
        project=row["project"],
        trace_id=row["trace_id"],
        span_id=row["span_id"],
        parent_span_id=row["parent_span_id"],
        name=row["name"],
        op=row["op"],
        status=row["status"],
        start=row["start_ts"],
        end=row["end_ts"],
        release=row["release"],
        environment=row["environment"],
        dsc=_dsc(row),
        received_at=row["received_at"],
        spans=spans,
        sdk=_sdk(row),
    )


def _segments(
    bundles: dict[str, TraceBundle],
    default: str,
    row: RowLike,
    detached: list[tuple[TraceBundle, str, SpanFact]],
) -> None:
    """A `span` item (span streaming, v1 or v2): each segment span stands where a transaction
    would, holding the spans under it; spans sent without their segment join a segment of
    the same service later (`_attach`).

    One item may hold several segments, even of several traces: an OpenTelemetry SDK exports
    its spans in batches (OTLP ingest stores a batch as one item). Each span goes to its own
    trace, and each child to the segment it descends from."""
    try:
        payload = orjson.loads(row["payload"]) if row["payload"] else None
    except orjson.JSONDecodeError:
        return
    streamed = streamed_spans(payload)
    segments: list[tuple[StreamedSpan, TransactionFact]] = []
    children: list[StreamedSpan] = []
    for one in streamed:
        fact = one.span
        if not one.segment:
            children.append(one)
            continue
        segments.append(
            (
                one,
                TransactionFact(
                    envelope_id=row["envelope_id"],
                    event_id=None,
                    project=row["project"],
                    trace_id=one.trace_id or row["trace_id"],
                    span_id=fact.span_id,
                    parent_span_id=fact.parent_span_id,
                    name=one.name or fact.description,
                    op=fact.op,
                    status=fact.status,
                    start=fact.start,
                    end=fact.end,
                    release=one.release or row["release"],
                    environment=one.environment or row["environment"],
                    dsc=_dsc(row),
                    received_at=row["received_at"],
                    kind="segment",
                    ingest=one.ingest,
                    sdk=_sdk(row),
                    otlp_resource=fact.otlp_resource,
                ),
            )
        )
    if len(segments) == 1 and all(c.trace_id in (None, segments[0][0].trace_id) for c in children):
        # The common case (a Sentry SDK's segment with its spans): no lookups needed.
        segments[0][1].spans = tuple(c.span for c in children)
        _bundle_of(bundles, default, segments[0][1].trace_id).transactions.append(segments[0][1])
        return
    by_span = {one.span.span_id: tx for one, tx in segments}
    parents = {c.span.span_id: c.span.parent_span_id for c in children}
    owned: dict[int, list[SpanFact]] = {}
    for _, tx in segments:
        owned[id(tx)] = []
        _bundle_of(bundles, default, tx.trace_id).transactions.append(tx)
    for child in children:
        home = _segment_of(child.span, by_span, parents)
        if home is not None:
            owned[id(home)].append(child.span)
        else:
            detached.append((_bundle_of(bundles, default, child.trace_id), row["project"], child.span))
    for _, tx in segments:
        tx.spans = tuple(owned[id(tx)])


def _segment_of(
    span: SpanFact, segments: dict[str, TransactionFact], parents: dict[str, str | None]
) -> TransactionFact | None:
    """The segment a span descends from, following parent ids inside its item."""
    parent = span.parent_span_id
    for _ in range(len(parents) + 1):  # bounded: crafted parent ids may form a cycle
        if parent is None:
            return None
        home = segments.get(parent)
        if home is not None:
            return home
        parent = parents.get(parent)
    return None


def _bundle_of(bundles: dict[str, TraceBundle], default: str, trace_id: str | None = None) -> TraceBundle:
    """The bundle of `trace_id`, else of the row's trace (`default`), made when first needed."""
    trace = trace_id or default
    bundle = bundles.get(trace)
    if bundle is None:
        bundle = bundles[trace] = TraceBundle(trace)
    return bundle


def _attach(detached: list[tuple[TraceBundle, str, SpanFact]]) -> None:
    for bundle, project, span in detached:
        home = next((tx for tx in bundle.transactions if tx.project == project and tx.kind == "segment"), None)
        if home is not None:
            home.spans = (*home.spans, span)


def _error(row: RowLike) -> ErrorFact:
    said = headline(orjson.loads(row["summary"]) if row["summary"] else None)
    return ErrorFact(
        envelope_id=row["envelope_id"],
        event_id=row["event_id"],
        project=row["project"],
        trace_id=row["trace_id"],
        span_id=row["span_id"],
        exception_type=said.type,
        message=said.value or said.message,
        transaction=row["name"],
        dsc=_dsc(row),
        received_at=row["received_at"],
        level=row["level"],
        timestamp=row["end_ts"],
    )


def _profile_trace(row: RowLike) -> str | None:
    try:
        profile = orjson.loads(row["payload"]) if row["payload"] else {}
    except orjson.JSONDecodeError:
        return None
    transaction = profile.get("transaction") if isinstance(profile, dict) else None
    return transaction.get("trace_id") if isinstance(transaction, dict) else None


def _client_reports(conn: sqlite3.Connection, since: float | None) -> list[ClientReportFact]:
    reports = []
    for project, received_at, summary in client_reports_since(conn, (since or 0) - MARGIN_S):
        for entry in (orjson.loads(summary) or {}).get("discarded_events", []) if summary else []:
            if isinstance(entry, dict):
                reports.append(
                    ClientReportFact(
                        project,
                        received_at,
                        str(entry.get("reason")),
                        str(entry.get("category")),
                        int(entry.get("quantity") or 0),
                    )
                )
    return reports
