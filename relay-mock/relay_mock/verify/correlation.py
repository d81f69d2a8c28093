"""The correlation check: every Sentry log and metric a service emitted while serving a traced
request carries that request's trace id and the id of a span of that trace.

A record is tied to the request that emitted it by the `request_id` attribute the services put
on every log, metric and streamed span of a request (servicekit.middleware), and the request
to its trace by its transaction's `request_id` tag (or its segment span's attribute). So a
record that names another trace is caught even though its own trace id says nothing:

- `foreign_trace_id`: the record's trace id is not its request's;
- `missing_span_id`: the record carries no span id, so it cannot be placed in the trace;
- `unknown_span_id`: its span id is no span of the trace (in any service).

Records that name no request are held to the same span rules when their service served their
trace; records of requests whose transaction never arrived (a trace the SDK did not sample or
dropped) are left to the other checks. This module is self-contained: it reads the
store itself and adds its findings to a report (`with_correlation`), so it plugs in after the
other checks whatever they are.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import orjson

from relay_mock.store.traces import payloads_of
from relay_mock.verify.report import FAILED, UNVERIFIED, VERIFIED, Finding, Report

CHECK = "correlation"
REQUEST_ATTRIBUTE = "request_id"


@dataclass(slots=True)
class TelemetryFact:
    """A log or metric record, with the request it names."""

    kind: str  # log | metric
    project: str
    trace_id: str | None
    span_id: str | None
    request_id: str | None
    label: str  # a log's body or a metric's name, for the message
    envelope_id: str


@dataclass(slots=True)
class ServedRequest:
    """A request a service served: its transaction, or its segment span when spans stream."""

    project: str
    request_id: str
    trace_id: str
    envelope_id: str


@dataclass
class CorrelationInput:
    requests: list[ServedRequest]
    span_ids: dict[str, set[str]]  # trace id -> the ids of its spans, every service's
    records: list[TelemetryFact]


def check_correlation(data: CorrelationInput, *, ui_base_url: str) -> list[Finding]:
    by_request = {(r.project, r.request_id): r for r in data.requests}
    served = {(r.project, r.trace_id) for r in data.requests}
    findings = []
    for record in data.records:
        request = by_request.get((record.project, record.request_id)) if record.request_id else None
        if request is None and (record.project, record.trace_id) not in served:
            # Not emitted while serving a traced request whose transaction reached the store: a
            # transaction the SDK dropped is the completeness check's business, not this one's.
            continue
        trace_id = request.trace_id if request is not None else str(record.trace_id)
        where = f"{record.kind} {record.label[:80]!r} from {record.project}"
        if request is not None and record.trace_id != request.trace_id:
            kind, expected, observed = "foreign_trace_id", f"trace {trace_id}", f"trace {record.trace_id}"
            message = f"{where} names another trace than the request {request.request_id} that emitted it"
        elif record.span_id is None:
            kind, expected, observed = "missing_span_id", "a span id of the trace", "no span id"
            message = f"{where} carries no span id"
        elif record.span_id not in data.span_ids.get(trace_id, ()):
            kind, expected, observed = "unknown_span_id", "a span id of the trace", f"span {record.span_id}"
            message = f"{where} names a span that is not in its trace"
        else:
            continue
        envelopes = (record.envelope_id, request.envelope_id) if request is not None else (record.envelope_id,)
        findings.append(
            Finding(
                check=CHECK,
                kind=kind,
                trace_id=trace_id,
                message=message,
                expected=expected,
                observed=observed,
                envelope_ids=envelopes,
                scenario=None,
                attributed_to=None,
                ui_url=f"{ui_base_url.rstrip('/')}/#/traces/{trace_id}",
                service=record.project,
            )
        )
    return findings


def with_correlation(report: Report, findings: Sequence[Finding], scenarios: dict[str, str] | None = None) -> Report:
    """The report with the correlation findings added, counted as failures per check (and named
    by the scenario of their trace, `scenarios`: trace id -> scenario)."""
    scenario_of = scenarios or {}
    added = [replace(f, scenario=scenario_of.get(f.trace_id)) for f in findings]
    failing_before = {f.trace_id for f in report.findings if f.is_failure}
    failed_traces = {f.trace_id for f in added}
    checks = dict(report.checks)
    checks[CHECK] = {"passed": report.traces_checked - len(failed_traces), "failed": len(failed_traces)}
    # A trace with a correlation finding has failed, whatever the other checks said of it.
    traces = tuple(replace(t, verdict=FAILED, causes=()) if t.trace_id in failed_traces else t for t in report.traces)
    verdicts = dict(report.verdicts)
    if traces:
        verdicts = {name: sum(1 for t in traces if t.verdict == name) for name in (VERIFIED, UNVERIFIED, FAILED)}
    return replace(
        report,
        failures=report.failures + len(added),
        failed_traces=len(failing_before | failed_traces),
        checks=checks,
        findings=tuple(sorted((*report.findings, *added), key=Finding.sort_key)),
        traces=traces,
        verdicts=verdicts,
    )


# -- reading the store ----------------------------------------------------------------------------


def collect_correlation(conn: sqlite3.Connection, *, since: float | None, until: float | None) -> CorrelationInput:
    """The requests, span ids and records of the window (arrival time), from the store."""
    low, high = since if since is not None else 0.0, until if until is not None else 1e18
    data = CorrelationInput([], {}, [])
    for row in payloads_of(conn, ("log", "trace_metric"), since=low, until=high):
        payload = _json(row["payload"])
        records = payload.get("items") if isinstance(payload, dict) else None
        for record in records if isinstance(records, list) else ():
            if isinstance(record, dict):
                data.records.append(_fact(row, record))
    if not data.records:
        # Nothing to correlate: reading every transaction and span of the window a second time
        # would cost as much as the verifier's own read.
        return data
    for row in payloads_of(conn, ("transaction", "span"), since=low, until=high):
        payload = _json(row["payload"])
        if row["type"] == "transaction":
            _add_transaction(data, row, payload)
        else:
            _add_spans(data, row, payload)
    return data


def _add_transaction(data: CorrelationInput, row: sqlite3.Row, event: Any) -> None:
    if not isinstance(event, dict):
        return
    contexts = event.get("contexts")
    trace = contexts.get("trace") if isinstance(contexts, dict) else None
    if not isinstance(trace, dict) or not isinstance(trace.get("trace_id"), str):
        return
    trace_id = trace["trace_id"]
    spans = data.span_ids.setdefault(trace_id, set())
    spans.update(_ids([trace, *(event.get("spans") or ())]))
    tags = event.get("tags")
    request_id = tags.get(REQUEST_ATTRIBUTE) if isinstance(tags, dict) else None
    if isinstance(request_id, str):
        data.requests.append(ServedRequest(row["project"], request_id, trace_id, row["envelope_id"]))


def _add_spans(data: CorrelationInput, row: sqlite3.Row, payload: Any) -> None:
    spans = payload.get("items") if isinstance(payload, dict) else None
    for span in spans if isinstance(spans, list) else ():
        if not isinstance(span, dict) or not isinstance(span.get("trace_id"), str):
            continue
        data.span_ids.setdefault(span["trace_id"], set()).update(_ids([span]))
        request_id = _attribute(span, REQUEST_ATTRIBUTE)
        if span.get("is_segment") is True and isinstance(request_id, str):
            data.requests.append(ServedRequest(row["project"], request_id, span["trace_id"], row["envelope_id"]))


def _fact(row: sqlite3.Row, record: dict[str, Any]) -> TelemetryFact:
    request_id = _attribute(record, REQUEST_ATTRIBUTE)
    label = record.get("body") if row["type"] == "log" else record.get("name")
    return TelemetryFact(
        kind="log" if row["type"] == "log" else "metric",
        project=row["project"],
        trace_id=_text(record.get("trace_id")),
        span_id=_text(record.get("span_id")),
        request_id=request_id if isinstance(request_id, str) else None,
        label=str(label),
        envelope_id=row["envelope_id"],
    )


def _ids(spans: Iterable[Any]) -> set[str]:
    return {span["span_id"] for span in spans if isinstance(span, dict) and isinstance(span.get("span_id"), str)}


def _attribute(record: dict[str, Any], name: str) -> Any:
    attributes = record.get("attributes")
    value = attributes.get(name) if isinstance(attributes, dict) else None
    return value.get("value") if isinstance(value, dict) else value


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _json(payload: bytes | None) -> Any:
    try:
        return orjson.loads(payload) if payload else None
    except orjson.JSONDecodeError:
        return None
