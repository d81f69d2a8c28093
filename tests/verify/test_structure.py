"""Completeness, linkage and identity beyond the catalogue: what must NOT be reported, and how a
fault that spans two trace ids is reported once, in the trace it broke."""

from __future__ import annotations

from dataclasses import replace

from relay_mock.verify.model import TraceBundle
from tests.verify.builders import (
    API_DB,
    API_KEY,
    CALL,
    CONFIG,
    DOWNSTREAM_KEY,
    T0,
    error_event,
    head_dsc,
    healthy_trace,
    kinds,
    run,
    span,
    span_id,
    trace_id,
)


def test_an_unsampled_trace_owes_no_transactions() -> None:
    t = healthy_trace()
    assert t.expectation is not None
    unsampled = replace(t, expectation=replace(t.expectation, sampled=False, sample_rand=0.9, sample_rate=0.5))

    report = run(replace(unsampled, api=None, downstream=None).bundle())

    assert report.findings == ()


def test_a_sampled_trace_with_nothing_arrived_misses_both_services() -> None:
    t = healthy_trace()

    report = run(replace(t, api=None, downstream=None).bundle())

    assert sorted(f.service or "" for f in report.findings) == ["api", "downstream"]
    assert {f.kind for f in report.findings} == {"missing_transaction"}


def test_a_healthy_trace_found_in_the_store_only_has_no_findings() -> None:
    report = run(replace(healthy_trace(), expectation=None).bundle())

    assert report.findings == ()


def test_a_trace_a_service_started_on_its_own_is_its_own_head() -> None:
    # No service is the head by name: a fresh trace whose DSC names the service that started it
    # is consistent on its own (the catalogue's propagation_lost case pairs it with its caller).
    t = healthy_trace(7)
    assert t.downstream is not None
    own_dsc = head_dsc(7, public_key="d2" * 16, release="downstream@1.0.0")
    fresh = replace(t.downstream, parent_span_id=None, dsc=own_dsc)

    report = run(TraceBundle(trace_id=t.trace_id, transactions=[fresh]))

    assert kinds(report, t.trace_id) == []


def test_a_dsc_naming_another_head_than_the_trace_started_at_is_flagged() -> None:
    t = healthy_trace(7)
    assert t.downstream is not None
    own_dsc = head_dsc(7, public_key="d2" * 16)  # downstream's key, api's release
    fresh = replace(t.downstream, parent_span_id=None, dsc=own_dsc)

    report = run(TraceBundle(trace_id=t.trace_id, transactions=[fresh]))

    assert kinds(report, t.trace_id) == [("dsc", "dsc_wrong_head")]


def test_two_calls_with_two_children_are_healthy() -> None:
    t = healthy_trace()
    assert t.api is not None and t.downstream is not None
    second_call = span(
        t.n,
        0xA4,
        parent=0xA1,
        op="http.client",
        description="POST http://downstream:8001/reservations",
        start=T0 + 0.16,
        end=T0 + 0.19,
    )
    second_child = replace(
        t.downstream,
        envelope_id="env-2",
        span_id=span_id(t.n, 0xD4),
        parent_span_id=second_call.span_id,
        start=T0 + 0.17,
        end=T0 + 0.18,
        spans=(),
    )
    api = replace(t.api, spans=(*t.api.spans, second_call))

    report = run(replace(t, api=api, extra=(replace(second_child, status="internal_error"),)).bundle())

    assert report.findings == ()


def test_each_call_without_a_child_is_one_missing_transaction() -> None:
    t = healthy_trace()
    assert t.api is not None
    second_call = span(
        t.n,
        0xA4,
        parent=0xA1,
        op="http.client",
        description="GET http://downstream:8001/stock",
        start=T0 + 0.16,
        end=T0 + 0.19,
    )

    report = run(replace(t, api=replace(t.api, spans=(*t.api.spans, second_call))).bundle())

    assert kinds(report, t.trace_id) == [("completeness", "missing_transaction")]
    assert second_call.span_id in report.findings[0].expected


def test_a_call_to_another_host_owes_no_downstream_transaction() -> None:
    t = healthy_trace()
    assert t.api is not None
    elsewhere = span(
        t.n, 0xA4, parent=0xA1, op="http.client", description="GET http://example.com/", start=T0 + 0.16, end=T0 + 0.19
    )

    report = run(replace(t, api=replace(t.api, spans=(*t.api.spans, elsewhere))).bundle())

    assert report.findings == ()


def test_a_second_request_from_the_same_caller_is_a_sibling_of_the_root_not_an_orphan() -> None:
    t = healthy_trace()
    assert t.api is not None
    retry = replace(t.api, envelope_id="env-retry", span_id=span_id(t.n, 0xB1), start=T0 + 0.3, end=T0 + 0.4, spans=())

    report = run(replace(t, extra=(replace(retry, status="internal_error"),)).bundle())

    assert report.findings == ()


def test_an_api_transaction_hanging_on_an_unknown_span_is_an_orphan() -> None:
    t = healthy_trace()
    assert t.api is not None
    stray = replace(
        t.api,
        envelope_id="env-stray",
        span_id=span_id(t.n, 0xB1),
        parent_span_id="feedfacefeedface",
        status="internal_error",
        start=T0 + 0.3,
        end=T0 + 0.4,
        spans=(),
    )

    report = run(replace(t, extra=(stray,)).bundle())

    assert kinds(report, t.trace_id) == [("linkage", "orphan")]
    assert report.findings[0].envelope_ids == ("env-stray",)


def test_the_child_filed_under_another_trace_id_is_reported_only_in_the_trace_it_should_have_joined() -> None:
    t = healthy_trace()
    assert t.downstream is not None
    stray = replace(t.downstream, trace_id=trace_id(99), dsc=head_dsc(99))

    report = run(TraceBundle(trace_id=trace_id(99), transactions=[stray]), replace(t, downstream=None).bundle())

    assert kinds(report, t.trace_id) == [("identity", "trace_id_mismatch")]
    assert kinds(report, trace_id(99)) == []
    assert report.findings[0].observed == trace_id(99)


def test_an_error_without_trace_id_is_found_by_its_span_wherever_it_was_filed() -> None:
    t = healthy_trace()
    assert t.expectation is not None
    lost = replace(error_event(t, project="api", role=API_DB), trace_id=None)
    expected = replace(t, expectation=replace(t.expectation, expect_errors_from=("api",)))

    report = run(expected.bundle(), TraceBundle(trace_id="", errors=[lost]))

    assert kinds(report, t.trace_id) == [("errors", "error_without_trace")]
    assert kinds(report, "") == []


def test_an_error_without_trace_id_and_without_a_known_span_is_not_blamed_on_any_trace() -> None:
    t = healthy_trace()
    unknown = replace(error_event(t), trace_id=None, span_id="0000000000000bad")

    report = run(t.bundle(), TraceBundle(trace_id="", errors=[unknown]))

    assert report.findings == ()


def test_an_expected_error_that_arrived_satisfies_the_expectation() -> None:
    t = healthy_trace()
    assert t.expectation is not None
    expected = replace(
        t, expectation=replace(t.expectation, expect_errors_from=("downstream",)), errors=(error_event(t),)
    )

    assert run(expected.bundle()).findings == ()


def test_a_call_span_is_recognised_by_its_op_and_url_marker() -> None:
    t = healthy_trace()
    assert t.api is not None
    renamed = replace(
        t.api, spans=tuple(replace(s, op="http") if s.span_id == span_id(t.n, CALL) else s for s in t.api.spans)
    )

    report = run(replace(t, api=renamed).bundle())

    # Without a recognisable call, the downstream transaction hangs on an ordinary span.
    assert kinds(report, t.trace_id) == [("linkage", "wrong_parent")]


def test_a_store_only_trace_headed_by_a_client_that_sends_no_transactions_owes_none() -> None:
    # A load generator (or a browser) heads the trace with a DSC of its own project; it is
    # not a service that calls others in this run, so its "missing" transaction is not owed.
    t = healthy_trace(3)
    assert t.api is not None and t.downstream is not None
    client_dsc = head_dsc(3, public_key=DOWNSTREAM_KEY)
    headless = replace(t, expectation=None, downstream=None, api=replace(t.api, dsc=client_dsc, spans=()))

    report = run(headless.bundle(), config=replace(CONFIG, public_keys={"api": API_KEY, "locust": DOWNSTREAM_KEY}))

    assert [f.kind for f in report.findings if f.check == "completeness"] == []
