"""The verifier names two SDK pitfalls with their evidence: independent requests of one service
sharing a trace (sentry-python 3 under TestClient), and spans of the SDK posting to its own DSN."""

from __future__ import annotations

from dataclasses import replace

from relay_mock.verify import pitfalls
from relay_mock.verify.model import TraceBundle, TransactionFact
from tests.verify.builders import API_TX, CALL, healthy_trace, kinds, run, span, span_id

SHARED = (pitfalls.CHECK, pitfalls.SHARED_TRACE)
OWN_DSN = (pitfalls.CHECK, pitfalls.OWN_DSN_CALL)


def _two_testclient_requests() -> tuple[str, TraceBundle, TransactionFact, TransactionFact]:
    """Two api requests of one test, each continuing the never-sent propagation context's span."""
    t = healthy_trace(7)
    assert t.api is not None
    context_span = "c0ffee00c0ffee00"
    first = replace(t.api, parent_span_id=context_span, spans=())
    second = replace(
        t.api, envelope_id="env-api-7b", span_id=span_id(7, 0xB1), parent_span_id=context_span, name="/items/{id}"
    )
    bundle = replace(t, expectation=None, api=first, downstream=None, extra=(replace(second, spans=()),)).bundle()
    return t.trace_id, bundle, first, second


def test_two_requests_of_one_service_under_a_span_nobody_sent_are_a_shared_trace() -> None:
    trace_id, bundle, first, second = _two_testclient_requests()

    report = run(bundle)

    assert SHARED in kinds(report, trace_id)
    [finding] = [f for f in report.findings if (f.check, f.kind) == SHARED]
    assert finding.is_failure and finding.service == "api"
    assert "c0ffee00c0ffee00" in finding.message and "2 independent requests of api" in finding.message
    assert set(finding.envelope_ids) == {first.envelope_id, second.envelope_id}


def test_two_heads_of_one_service_without_any_parent_are_a_shared_trace_too() -> None:
    t = healthy_trace(8)
    assert t.api is not None
    other = replace(t.api, envelope_id="env-api-8b", span_id=span_id(8, 0xB1), parent_span_id=None, spans=())
    bundle = replace(t, expectation=None, api=replace(t.api, parent_span_id=None), extra=(other,)).bundle()

    assert SHARED in kinds(run(bundle), t.trace_id)


def test_a_healthy_trace_and_two_answers_to_calls_are_no_shared_trace() -> None:
    t = healthy_trace(9)
    assert t.downstream is not None
    # A retry: a second downstream request, caused by a call span of the trace.
    retry = replace(t.downstream, envelope_id="env-downstream-9b", span_id=span_id(9, 0xD9))

    assert kinds(run(t.bundle()), t.trace_id) == []
    assert SHARED not in kinds(run(replace(t, extra=(retry,)).bundle()), t.trace_id)


def test_a_span_of_the_sdk_posting_to_its_own_dsn_is_a_note_with_its_span() -> None:
    t = healthy_trace(10)
    assert t.api is not None
    own = span(
        10,
        0xAF,
        parent=API_TX,
        op="http.client",
        description="POST http://relay-mock:9000/api/1/envelope/",
        start=t.api.start or 0.0,
        end=(t.api.start or 0.0) + 0.001,
    )
    report = run(replace(t, api=replace(t.api, spans=(*t.api.spans, own))).bundle())

    [finding] = [f for f in report.findings if (f.check, f.kind) == OWN_DSN]
    assert finding.note and not finding.is_failure
    assert finding.span_id == own.span_id and "/api/1/envelope/" in finding.observed
    verdict = report.verdict_of(t.trace_id)
    assert verdict is not None and verdict.verdict == "verified"


def test_an_http_call_to_another_path_is_no_own_dsn_call() -> None:
    t = healthy_trace(11)
    assert t.api is not None
    calls = [s for s in t.api.spans if s.span_id == span_id(11, CALL)]
    assert calls and "/reservations" in (calls[0].description or "")

    assert OWN_DSN not in kinds(run(t.bundle()), t.trace_id)
