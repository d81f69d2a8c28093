"""From the store to the verifier's facts: every transaction (or streamed segment), error event
and profile that arrived in the window, grouped per trace, with the expectations (ground truth)
recorded for it, the SDKs' client reports and relay-mock's refusals."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from relay_mock.expectations import from_row
from relay_mock.store.expectations import expectation_rows
from relay_mock.store.spans import MAX_SPANS, streamed_spans, timestamp
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

# A row of ITEMS_SQL, or a dict shaped like one.
RowLike = Mapping[str, Any] | sqlite3.Row
# Client reports and refusals explain losses in the window: read a margin either side of it.
MARGIN_S = 5.0
REFUSAL_DELAY_S = 60.0
# The services' clocks and the caller's may differ a little: a trace is in the window within this.
SKEW_S = 0.5

ITEMS_SQL = """
SELECT i.type, i.event_id, i.trace_id, i.span_id, i.parent_span_id, i.name, i.op, i.status, i.level,
       i.release, i.environment, i.start_ts, i.end_ts, i.summary, e.project, e.envelope_id,
       e.received_at, e.header,
       CASE WHEN i.type IN ('transaction', 'profile', 'span')
            THEN substr(e.raw, i.payload_offset + 1, i.payload_length) END AS payload
FROM items i JOIN envelopes e ON e.id = i.envelope_rowid
WHERE i.type IN ('transaction', 'span', 'event', 'profile') AND {where}
"""


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
) -> Collected:
    """Everything in the window, or the traces named (`trace_id`, or several `trace_ids`: the
    trace pages of the UI and the MCP tools read them through the same code as the verifier)."""
    # Hundreds of thousands of small objects: without pausing the collector, it rescans the
    # growing heap again and again and takes most of the time.
    with collector_paused():
        ids = trace_ids if trace_ids is not None else ([trace_id] if trace_id else None)
        return _collect(conn, since=since, until=until, trace_ids=ids)


def _collect(
    conn: sqlite3.Connection, *, since: float | None, until: float | None, trace_ids: list[str] | None
) -> Collected:
    if trace_ids is None:
        rows = expectation_rows(conn, since=since, until=until, trace_id=None, limit=None)
    else:
        rows = _chunked(conn, "SELECT * FROM expectations WHERE trace_id IN ({marks})", trace_ids)
    expectations = {row["trace_id"]: from_row(row) for row in rows}
    bundles: dict[str, TraceBundle] = {tid: TraceBundle(tid, expectation=e) for tid, e in expectations.items()}
    if trace_ids is None:
        where, params = _window(since, until)
        items: list[sqlite3.Row] | sqlite3.Cursor = conn.execute(ITEMS_SQL.format(where=where), params)
    else:
        items = _chunked(conn, ITEMS_SQL.format(where="i.trace_id IN ({marks})"), trace_ids)
    detached: list[tuple[TraceBundle, str, SpanFact]] = []
    for row in items:
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
        for row in conn.execute(
            "SELECT received_at, status, reason, project_id, injected, item_types FROM refusals"
            " WHERE received_at >= ? AND received_at < ?",
            ((since or 0) - MARGIN_S, (until + REFUSAL_DELAY_S) if until is not None else 1e18),
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


def bundles_from_rows(rows: Iterable[RowLike]) -> list[TraceBundle]:
    """Bundles from item rows shaped like ITEMS_SQL's (what tests and tools without a store use)."""
    bundles: dict[str, TraceBundle] = {}
    detached: list[tuple[TraceBundle, str, SpanFact]] = []
    for row in rows:
        _add(bundles, row, detached)
    _attach(detached)
    return sorted(bundles.values(), key=lambda b: b.trace_id)


def _chunked(conn: sqlite3.Connection, sql: str, ids: list[str]) -> list[sqlite3.Row]:
    found: list[sqlite3.Row] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        found += conn.execute(sql.format(marks=",".join("?" * len(chunk))), chunk).fetchall()
    return found


def _window(since: float | None, until: float | None) -> tuple[str, list[Any]]:
    """Which items to read: every item of every trace that happened in the window.

    A trace is in the window by when it happened (its items' own timestamps) or because an
    expectation recorded it there, not by when its envelopes arrived: an SDK drains its queue
    long after an ingest outage, and those stragglers belong to the run that produced them.
    Once a trace is in, all of it is read, also the parts that started just outside.
    """
    if since is None and until is None:
        return "1", []
    low = (since if since is not None else 0.0) - SKEW_S
    high = (until if until is not None else 1e18) + SKEW_S
    return (
        "(i.trace_id IN (SELECT trace_id FROM items WHERE trace_id IS NOT NULL"
        "   AND coalesce(start_ts, end_ts) >= ? AND coalesce(start_ts, end_ts) < ?"
        " UNION SELECT trace_id FROM expectations WHERE started_at >= ? AND started_at < ?)"
        " OR (i.trace_id IS NULL AND coalesce(i.start_ts, i.end_ts, e.received_at) >= ?"
        "   AND coalesce(i.start_ts, i.end_ts, e.received_at) < ?))",
        [low, high, low, high, low, high],
    )


def _types(value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    types = orjson.loads(value)
    return tuple(str(t) for t in types) if isinstance(types, list) else None


def _add(bundles: dict[str, TraceBundle], row: RowLike, detached: list[tuple[TraceBundle, str, SpanFact]]) -> None:
    kind = row["type"]
    trace = row["trace_id"] or ""
    bundle = bundles.get(trace)
    if bundle is None:
        bundle = bundles[trace] = TraceBundle(trace)
    if kind == "transaction":
        bundle.transactions.append(_transaction(row))
    elif kind == "span":
        _segments(bundle, row, detached)
    elif kind == "event":
        bundle.errors.append(_error(row))
    elif kind == "profile":
        bundle.profiles.append(ProfileFact(row["envelope_id"], row["project"], _profile_trace(row), row["received_at"]))


def _dsc(row: RowLike) -> dict[str, Any] | None:
    header = orjson.loads(row["header"])
    trace = header.get("trace") if isinstance(header, dict) else None
    return trace if isinstance(trace, dict) else None


def _transaction(row: RowLike) -> TransactionFact:
    try:
        event = orjson.loads(row["payload"]) if row["payload"] else {}
    except orjson.JSONDecodeError:
        event = {}
    spans = _span_facts(event.get("spans") if isinstance(event, dict) else None)
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
    )


def _segments(bundle: TraceBundle, row: RowLike, detached: list[tuple[TraceBundle, str, SpanFact]]) -> None:
    """A `span` item (span streaming, v1 or v2): each segment span stands where a transaction
    would, holding the item's other spans; spans sent without their segment join a segment of
    the same service later (`_attach`)."""
    try:
        payload = orjson.loads(row["payload"]) if row["payload"] else None
    except orjson.JSONDecodeError:
        return
    raw = payload["items"] if isinstance(payload, dict) and isinstance(payload.get("items"), list) else [payload]
    parsed = streamed_spans(payload)
    segments: list[TransactionFact] = []
    children: list[SpanFact] = []
    for entry, source in zip(parsed, raw, strict=False):
        fact = SpanFact(
            entry["span_id"] or "",
            entry["parent_span_id"],
            entry["op"],
            entry["description"],
            entry["start"],
            entry["end"],
            entry["status"],
            _http_status(source.get("attributes") if isinstance(source, dict) else None),
        )
        if not entry["segment"]:
            children.append(fact)
            continue
        segments.append(
            TransactionFact(
                envelope_id=row["envelope_id"],
                event_id=None,
                project=row["project"],
                trace_id=_str(source.get("trace_id")) or row["trace_id"],
                span_id=fact.span_id,
                parent_span_id=fact.parent_span_id,
                name=fact.description,
                op=fact.op,
                status=fact.status,
                start=fact.start,
                end=fact.end,
                release=entry.get("release") or row["release"],
                environment=_attribute(source, "sentry.environment") or row["environment"],
                dsc=_dsc(row),
                received_at=row["received_at"],
                kind="segment",
            )
        )
    if segments:
        segments[0].spans = tuple(children)
        bundle.transactions.extend(segments)
    else:
        detached.extend((bundle, row["project"], span) for span in children)


def _attach(detached: list[tuple[TraceBundle, str, SpanFact]]) -> None:
    for bundle, project, span in detached:
        home = next((tx for tx in bundle.transactions if tx.project == project and tx.kind == "segment"), None)
        if home is not None:
            home.spans = (*home.spans, span)


def _attribute(span: Any, name: str) -> str | None:
    """A streamed span's typed attribute ({"type": "string", "value": ...}) as a string."""
    attributes = span.get("attributes") if isinstance(span, dict) else None
    value = attributes.get(name) if isinstance(attributes, dict) else None
    value = value.get("value") if isinstance(value, dict) else value
    return value if isinstance(value, str) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _http_status(data: Any) -> int | None:
    """The response status an HTTP client span recorded: in a transaction's span `data`, or a
    streamed span's typed `attributes` ({"type": ..., "value": ...})."""
    if not isinstance(data, dict):
        return None
    value = data.get("http.response.status_code")
    if isinstance(value, dict):
        value = value.get("value")
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _span_facts(spans: Any) -> tuple[SpanFact, ...]:
    # The hot loop of collection (one pass per span of every transaction): plain lookups only.
    if not isinstance(spans, list):
        return ()
    facts = []
    for span in spans[:MAX_SPANS]:
        if not isinstance(span, dict):
            continue
        get = span.get
        span_id, parent, op, description, status = (
            get("span_id"),
            get("parent_span_id"),
            get("op"),
            get("description"),
            get("status"),
        )
        facts.append(
            SpanFact(
                span_id if isinstance(span_id, str) else "",
                parent if isinstance(parent, str) else None,
                op if isinstance(op, str) else None,
                description if isinstance(description, str) else None,
                timestamp(get("start_timestamp")),
                timestamp(get("timestamp")),
                status if isinstance(status, str) else None,
                # Only calls need it, and only when they failed (did a response come back?).
                _http_status(get("data")) if status is not None and status != "ok" else None,
            )
        )
    return tuple(facts)


def _error(row: RowLike) -> ErrorFact:
    summary = orjson.loads(row["summary"]) if row["summary"] else {}
    exceptions = summary.get("exceptions") or []
    last = exceptions[-1] if exceptions else {}
    return ErrorFact(
        envelope_id=row["envelope_id"],
        event_id=row["event_id"],
        project=row["project"],
        trace_id=row["trace_id"],
        span_id=row["span_id"],
        exception_type=last.get("type"),
        message=last.get("value") or summary.get("message"),
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
    rows = conn.execute(
        "SELECT e.project, e.received_at, i.summary FROM items i JOIN envelopes e ON e.id = i.envelope_rowid"
        " WHERE i.type = 'client_report' AND e.received_at >= ?",
        ((since or 0) - MARGIN_S,),
    )
    for project, received_at, summary in rows:
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
