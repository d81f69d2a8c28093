"""The correlation check over hand-built facts: logs and metrics that name their request's trace
and a span of it pass; a foreign trace id, a missing span id or a span of no trace fail, and
the failures count in the report like any other check's."""

from __future__ import annotations

from relay_mock.verify.correlation import (
    CorrelationInput,
    ServedRequest,
    TelemetryFact,
    check_correlation,
    with_correlation,
)
from relay_mock.verify.model import TraceBundle
from relay_mock.verify.report import Report, build_report

TRACE = "a" * 32
OTHER = "c" * 32
API_SPAN, CALL_SPAN, DOWN_SPAN = "1" * 16, "2" * 16, "3" * 16
UI = "http://relay.test"


def record(
    trace_id: str | None = TRACE,
    span_id: str | None = API_SPAN,
    *,
    request_id: str | None = "req-api",
    project: str = "api",
) -> TelemetryFact:
    return TelemetryFact("log", project, trace_id, span_id, request_id, "order placed", "env-log")


def served(*records: TelemetryFact) -> CorrelationInput:
    return CorrelationInput(
        requests=[
            ServedRequest("api", "req-api", TRACE, "env-api"),
            ServedRequest("downstream", "req-down", TRACE, "env-down"),
        ],
        span_ids={TRACE: {API_SPAN, CALL_SPAN, DOWN_SPAN}},
        records=list(records),
    )


def kinds(data: CorrelationInput) -> list[tuple[str, str, str | None]]:
    return [(f.kind, f.trace_id, f.service) for f in check_correlation(data, ui_base_url=UI)]


def test_records_of_both_services_that_name_their_trace_and_a_span_of_it_pass() -> None:
    data = served(
        record(span_id=CALL_SPAN),
        record(span_id=DOWN_SPAN, request_id="req-down", project="downstream"),
    )

    assert kinds(data) == []


def test_a_record_naming_another_trace_than_its_request_is_a_finding() -> None:
    assert kinds(served(record(trace_id=OTHER, span_id=None))) == [("foreign_trace_id", TRACE, "api")]


def test_a_record_without_a_span_id_is_a_finding() -> None:
    assert kinds(served(record(span_id=None))) == [("missing_span_id", TRACE, "api")]


def test_a_record_whose_span_is_in_no_span_of_the_trace_is_a_finding() -> None:
    assert kinds(served(record(span_id="9" * 16))) == [("unknown_span_id", TRACE, "api")]


def test_a_record_without_a_request_is_held_to_the_span_rules_when_its_trace_was_served() -> None:
    data = served(record(span_id=None, request_id=None), record(trace_id=OTHER, span_id=None, request_id=None))

    assert kinds(data) == [("missing_span_id", TRACE, "api")]


def test_findings_count_as_failures_in_the_report_with_links_to_the_trace() -> None:
    base = build_report([TraceBundle(TRACE), TraceBundle(OTHER)], [], ["completeness"])
    findings = check_correlation(served(record(span_id=None)), ui_base_url=UI)

    report: Report = with_correlation(base, findings)

    assert not report.ok
    assert (report.failures, report.failed_traces) == (1, 1)
    assert report.checks["correlation"] == {"passed": 1, "failed": 1}
    (finding,) = report.failed_findings
    assert (finding.ui_url, finding.envelope_ids) == (f"{UI}/#/traces/{TRACE}", ("env-log", "env-api"))
    assert with_correlation(base, []).ok


def test_records_of_a_request_whose_transaction_never_arrived_are_left_to_the_other_checks() -> None:
    # The SDK dropped (or did not sample) that request's transaction: its span is unknown, but
    # completeness and its attribution to SDK drops are the verdict on that loss, not this check.
    data = served(
        record(trace_id=OTHER, span_id="9" * 16, request_id="req-lost"),
        record(span_id=None, request_id=None, project="cron"),
    )

    assert kinds(data) == []
