"""DSC, sampling, errors, db spans and timing beyond the catalogue: the boundaries of each rule."""

from __future__ import annotations

from dataclasses import replace

from relay_mock.verify.model import VerifyConfig
from tests.verify.builders import API_DB, T0, error_event, head_dsc, healthy_trace, kinds, run, span_id, with_span


def test_the_dsc_may_equal_the_callers_baggage_instead_of_naming_the_api() -> None:
    t = healthy_trace()
    assert t.expectation is not None and t.api is not None and t.downstream is not None
    baggage = head_dsc(t.n, release="locust@2.0", public_key="c" * 32)
    continued = replace(
        t,
        expectation=replace(t.expectation, baggage=baggage),
        api=replace(t.api, dsc=dict(baggage)),
        downstream=replace(t.downstream, dsc=dict(baggage)),
    )

    assert run(continued.bundle()).findings == ()


def test_without_a_configured_key_the_public_key_is_not_judged() -> None:
    t = healthy_trace()
    assert t.api is not None and t.downstream is not None
    dsc = head_dsc(t.n, public_key="f" * 32)
    other_key = replace(t, api=replace(t.api, dsc=dsc), downstream=replace(t.downstream, dsc=dict(dsc)))

    assert run(other_key.bundle(), config=VerifyConfig()).findings == ()


def test_an_error_event_with_a_different_dsc_is_a_mismatch() -> None:
    t = healthy_trace()
    error = replace(error_event(t), dsc=head_dsc(t.n, sample_rand="0.1"))

    report = run(replace(t, errors=(error,)).bundle())

    assert kinds(report, t.trace_id) == [("dsc", "dsc_mismatch")]
    assert report.findings[0].envelope_ids == (error.envelope_id,)


def test_a_dsc_without_a_sampling_decision_contradicts_nothing() -> None:
    t = healthy_trace()
    assert t.api is not None and t.downstream is not None
    dsc = {k: v for k, v in head_dsc(t.n).items() if k != "sampled"}
    undecided = replace(t, api=replace(t.api, dsc=dsc), downstream=replace(t.downstream, dsc=dict(dsc)))

    assert run(undecided.bundle()).findings == ()


def test_a_dsc_that_says_unsampled_while_transactions_arrive_is_unsampled_sent() -> None:
    # No expectation: the DSC alone says the trace was not sampled.
    t = healthy_trace()
    assert t.api is not None and t.downstream is not None
    dsc = head_dsc(t.n, sample_rate="0.5", sample_rand="0.9", sampled="false")
    unsampled = replace(
        t, expectation=None, api=replace(t.api, dsc=dsc), downstream=replace(t.downstream, dsc=dict(dsc))
    )

    assert kinds(run(unsampled.bundle()), t.trace_id) == [("sampling", "unsampled_sent")]


def test_a_failed_transaction_owes_no_db_span() -> None:
    t = healthy_trace()
    assert t.downstream is not None
    failed = replace(t.downstream, status="internal_error", spans=())

    assert run(replace(t, downstream=failed).bundle()).findings == ()


def test_a_db_span_is_recognised_by_the_op_prefix() -> None:
    t = healthy_trace()
    assert t.downstream is not None
    sql = replace(t.downstream, spans=tuple(replace(s, op="db.sql.query") for s in t.downstream.spans))

    assert run(replace(t, downstream=sql).bundle()).findings == ()


def test_skew_within_the_tolerance_is_healthy() -> None:
    t = healthy_trace()
    assert t.downstream is not None
    early = replace(t.downstream, start=T0 + 0.05 - 0.09)  # 90 ms before the call span, tolerance 100 ms

    assert run(replace(t, downstream=early).bundle()).findings == ()


def test_skew_beyond_a_configured_tolerance_is_clock_skew() -> None:
    t = healthy_trace()
    assert t.downstream is not None
    early = replace(t.downstream, start=T0 + 0.05 - 0.09)

    report = run(replace(t, downstream=early).bundle(), config=VerifyConfig(clock_skew_tolerance_s=0.05))

    assert kinds(report, t.trace_id) == [("timing", "clock_skew")]


def test_missing_timestamps_prove_no_skew() -> None:
    t = healthy_trace()
    api = with_span(t.api, span_id(t.n, API_DB), start=None, end=None)

    assert run(replace(t, api=api).bundle()).findings == ()


def test_a_downstream_transaction_may_outlive_the_call_that_started_it() -> None:
    # The SDK captures an unhandled error after the 500 went out: the server transaction ends
    # after its caller's span. Only where it starts says something about the clocks.
    t = healthy_trace()
    assert t.downstream is not None and t.downstream.end is not None
    late = replace(t, downstream=replace(t.downstream, end=t.downstream.end + 0.5))

    assert run(late.bundle()).findings == ()


def test_a_store_only_trace_headed_outside_the_sandbox_is_not_judged_on_its_head() -> None:
    t = healthy_trace()
    assert t.api is not None and t.downstream is not None
    foreign = head_dsc(t.n, public_key="f" * 32, release="frontend@3.1.0", environment="browser")
    found_only = replace(
        t, expectation=None, api=replace(t.api, dsc=foreign), downstream=replace(t.downstream, dsc=dict(foreign))
    )

    assert run(found_only.bundle()).findings == ()
