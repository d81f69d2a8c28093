"""Three verdicts per trace, exactly: `verified`, `failed`, or `unverified` with the counted cause
named. Each case the issue lists (spare drops, late drops, refusals that say nothing, a head lost
to queue_overflow, backpressure exhausted, a connect failure, a third hop, witnesses, chains,
fan-out, retries, streamed segments) asserts the verdict, and the run's outcome."""

from __future__ import annotations

from dataclasses import replace

import pytest

from relay_mock.verify.model import SpanFact, WitnessFact
from relay_mock.verify.report import Report
from tests.verify.builders import (
    CALL,
    CONFIG,
    DOWNSTREAM_TX,
    LOCUST_SPAN,
    T0,
    TwoHop,
    client_report,
    healthy_trace,
    refusal,
    run,
    span,
    span_id,
    with_span,
)

PLAYGROUND_CALL, PLAYGROUND_TX, SECOND_CALL, SECOND_TX = 0xD3, 0xE1, 0xA4, 0xD5
THREE = replace(CONFIG, project_ids={"api": 1, "downstream": 2, "playground": 3})


def verdict(report: Report, trace: TwoHop) -> tuple[str, tuple[str, ...]]:
    found = report.verdict_of(trace.trace_id)
    assert found is not None
    return found.verdict, found.causes


def without_downstream(n: int = 1, started_at: float = T0) -> TwoHop:
    return replace(healthy_trace(n, started_at=started_at), downstream=None)


def chain_of_three(n: int = 1) -> TwoHop:
    """api -> downstream -> playground: downstream calls a third service from its own http.client span."""
    t = healthy_trace(n)
    assert t.downstream is not None and t.expectation is not None
    call = span(
        n,
        PLAYGROUND_CALL,
        parent=DOWNSTREAM_TX,
        op="http.client",
        description="GET http://playground:8002/items",
        start=T0 + 0.095,
        end=T0 + 0.130,
    )
    playground = replace(
        t.downstream,
        envelope_id=f"env-playground-{n}",
        event_id=f"{n:08x}" + "e" * 24,
        project="playground",
        span_id=span_id(n, PLAYGROUND_TX),
        parent_span_id=span_id(n, PLAYGROUND_CALL),
        name="/items",
        start=T0 + 0.100,
        end=T0 + 0.125,
        release="playground@1.0.0",
        spans=(),
    )
    return replace(
        t,
        downstream=replace(t.downstream, spans=(*t.downstream.spans, call)),
        extra=(playground,),
        expectation=replace(t.expectation, expect_services=("api", "downstream")),
    )


# --- the five cases at the top of the issue -------------------------------------------------


def test_spare_drops_of_the_same_project_leave_the_trace_unverified_not_passed() -> None:
    # One client report of 25 transactions: it may account for the loss, so the trace is not
    # verified, and the run is inconclusive rather than PASSED.
    report = run(
        without_downstream().bundle(), client_reports=[client_report("downstream", "queue_overflow", quantity=25)]
    )

    assert verdict(report, without_downstream()) == ("unverified", ("sdk:queue_overflow",))
    assert report.outcome("0") == ("INCONCLUSIVE", 3)
    assert report.outcome("1") == ("PASSED", 0)
    assert report.outcome("100%") == ("PASSED", 0)


def test_drops_reported_after_until_explain_nothing() -> None:
    late = client_report("downstream", "queue_overflow", at=T0 + 30)

    report = run(without_downstream().bundle(), client_reports=[late], config=replace(CONFIG, until=T0 + 10))

    assert verdict(report, without_downstream()) == ("failed", ())
    assert report.outcome() == ("FAILED", 1)


def test_an_unparseable_refusal_explains_nothing() -> None:
    not_an_envelope = refusal(2, "malformed_envelope", status=400, item_types=None)

    report = run(without_downstream().bundle(), refusals=[not_an_envelope])

    assert verdict(report, without_downstream()) == ("failed", ())


def test_a_refusal_of_another_category_explains_nothing() -> None:
    errors_only = refusal(2, "injected 503", item_types=("event",))

    report = run(without_downstream().bundle(), refusals=[errors_only])

    assert verdict(report, without_downstream()) == ("failed", ())


def test_a_refusal_of_the_same_category_explains_one_loss_per_refused_item() -> None:
    bundles = [without_downstream(n, started_at=T0 + n).bundle() for n in (1, 2, 3)]
    two_transactions = refusal(2, "injected 503", at=T0 + 2, item_types=("transaction", "transaction", "event"))

    report = run(*bundles, refusals=[two_transactions])

    assert [t.verdict for t in report.traces] == ["unverified", "unverified", "failed"]
    assert report.unverified_causes == {"relay:injected 503": 2}


def test_a_head_lost_to_queue_overflow_does_not_excuse_a_missing_downstream() -> None:
    # The head's SDK kept the trace (queue_overflow is not a sampling decision) and told
    # downstream it was sampled: downstream's loss needs its own counted cause.
    lost = replace(healthy_trace(), api=None, downstream=None)

    report = run(lost.bundle(), client_reports=[client_report("api", "queue_overflow")])

    assert sorted((f.service, f.attributed_to) for f in report.findings) == [
        ("api", "sdk:queue_overflow"),
        ("downstream", None),
    ]
    assert verdict(report, lost) == ("failed", ())


def test_backpressure_units_exhausted_leave_the_next_trace_failed() -> None:
    traces = [replace(healthy_trace(n, started_at=T0 + n), api=None, downstream=None) for n in (1, 2)]

    report = run(*(t.bundle() for t in traces), client_reports=[client_report("api", "backpressure", quantity=1)])

    assert verdict(report, traces[0]) == ("unverified", ("sdk:backpressure",))
    assert verdict(report, traces[1]) == ("failed", ())


def test_a_connect_failure_owes_no_child_and_the_trace_is_verified() -> None:
    # downstream stopped: api's call span failed without a response; nothing is owed.
    t = without_downstream()
    refused = with_span(t.api, span_id(1, CALL), status="internal_error", http_status=None)

    report = run(replace(t, api=refused).bundle())

    assert verdict(report, t) == ("verified", ())
    assert [(f.kind, f.note) for f in report.findings] == [("call_not_reached", True)]
    assert report.notes == 1 and report.outcome() == ("PASSED", 0)


def test_a_call_that_got_an_error_response_still_owes_its_child() -> None:
    t = without_downstream()
    answered_500 = with_span(t.api, span_id(1, CALL), status="internal_error", http_status=500)

    report = run(replace(t, api=answered_500).bundle())

    assert verdict(report, t) == ("failed", ())


def test_a_failed_call_that_a_witness_says_arrived_still_owes_its_child() -> None:
    # A read timeout: no response, but downstream did receive the request.
    t = without_downstream()
    assert t.expectation is not None
    timed_out = with_span(t.api, span_id(1, CALL), status="deadline_exceeded", http_status=None)
    witness = WitnessFact(f"{t.trace_id}-{span_id(1, CALL)}-1", "downstream")
    t = replace(t, api=timed_out, expectation=replace(t.expectation, witnesses=(witness,)))

    report = run(t.bundle())

    assert verdict(report, t) == ("failed", ())


def test_a_missing_third_hop_fails_the_trace() -> None:
    healthy = chain_of_three(1)  # teaches the verifier who answers playground:8002
    broken = replace(chain_of_three(2), extra=())

    report = run(healthy.bundle(), broken.bundle(), config=THREE)

    assert verdict(report, healthy) == ("verified", ())
    assert verdict(report, broken) == ("failed", ())
    [finding] = report.findings
    assert (finding.kind, finding.service) == ("missing_transaction", "playground")


def test_a_third_hop_named_like_a_project_is_owed_even_when_it_never_answered() -> None:
    broken = replace(chain_of_three(2), extra=())

    report = run(broken.bundle(), config=THREE)

    assert verdict(report, broken) == ("failed", ())


def test_a_healthy_chain_of_three_is_verified() -> None:
    report = run(chain_of_three().bundle(), config=THREE)

    assert verdict(report, chain_of_three()) == ("verified", ())
    assert report.findings == ()


def test_fan_out_owes_one_child_per_call() -> None:
    t = healthy_trace()
    assert t.api is not None and t.downstream is not None
    second_call = span(
        1,
        SECOND_CALL,
        parent=0xA1,
        op="http.client",
        description="GET http://downstream:8001/stock/SKU-1",
        start=T0 + 0.155,
        end=T0 + 0.190,
    )
    second_child = replace(
        t.downstream,
        envelope_id="env-downstream-stock",
        event_id="5" * 32,
        span_id=span_id(1, SECOND_TX),
        parent_span_id=span_id(1, SECOND_CALL),
        name="/stock/{sku}",
        start=T0 + 0.160,
        end=T0 + 0.185,
    )
    fan_out = replace(t, api=replace(t.api, spans=(*t.api.spans, second_call)))

    healthy = run(replace(fan_out, extra=(second_child,)).bundle())
    one_missing = run(fan_out.bundle())

    assert verdict(healthy, t) == ("verified", ())
    assert verdict(one_missing, t) == ("failed", ())
    assert [f.kind for f in one_missing.findings] == ["missing_transaction"]


def test_a_retry_owes_one_child_per_attempt_that_reached() -> None:
    t = healthy_trace()
    assert t.api is not None
    first_attempt = SpanFact(
        span_id(1, 0xA5),
        span_id(1, 0xA1),
        "http.client",
        "POST http://downstream:8001/reservations",
        T0 + 0.030,
        T0 + 0.045,
        "internal_error",
        None,
    )
    retried = replace(t, api=replace(t.api, spans=(*t.api.spans, first_attempt)))

    report = run(retried.bundle())

    assert verdict(report, t) == ("verified", ())
    assert [f.kind for f in report.findings] == ["call_not_reached"]


def test_a_streamed_span_segment_stands_where_a_transaction_would() -> None:
    t = healthy_trace()
    assert t.downstream is not None
    segment = replace(t.downstream, kind="segment", event_id=None)

    healthy = run(replace(t, downstream=segment).bundle())
    orphaned = run(replace(t, downstream=replace(segment, parent_span_id=span_id(1, LOCUST_SPAN))).bundle())

    assert verdict(healthy, t) == ("verified", ())
    assert verdict(orphaned, t) == ("failed", ())


# --- witnesses --------------------------------------------------------------------------------


def witnessed(t: TwoHop, received: str) -> TwoHop:
    assert t.expectation is not None
    witnesses = (WitnessFact(f"{t.trace_id}-{span_id(t.n, LOCUST_SPAN)}-1", "api"), WitnessFact(received, "downstream"))
    return replace(t, expectation=replace(t.expectation, witnesses=witnesses))


def test_a_matching_witness_is_verified() -> None:
    t = witnessed(healthy_trace(), f"{healthy_trace().trace_id}-{span_id(1, CALL)}-1")

    assert verdict(run(t.bundle()), t) == ("verified", ())


@pytest.mark.parametrize(
    ("received", "problem"),
    [
        ("", "no sentry-trace header"),
        (f"{'9' * 32}-{span_id(1, CALL)}-1", "trace 9999"),
        (f"{healthy_trace().trace_id}-{span_id(1, CALL)}-0", "sampled=False"),
        (f"{healthy_trace().trace_id}-{'f' * 16}-1", "parent span ffff"),
    ],
)
def test_a_witness_that_disagrees_with_the_envelopes_fails_the_trace(received: str, problem: str) -> None:
    t = witnessed(healthy_trace(), received)

    report = run(t.bundle())

    assert verdict(report, t) == ("failed", ())
    [finding] = report.findings
    assert finding.kind in ("witness_mismatch", "witness_unsampled") and problem in finding.message


def test_a_disagreeing_witness_fails_even_when_no_envelope_arrived() -> None:
    t = witnessed(replace(healthy_trace(), api=None, downstream=None), "")

    report = run(
        t.bundle(),
        client_reports=[client_report("api", "queue_overflow"), client_report("downstream", "queue_overflow")],
    )

    assert verdict(report, t) == ("failed", ())
    assert "witness_mismatch" in {f.kind for f in report.findings}


def test_a_matching_witness_and_a_lost_envelope_is_a_delivery_loss() -> None:
    t = witnessed(without_downstream(), f"{healthy_trace().trace_id}-{span_id(1, CALL)}-1")

    counted = run(t.bundle(), client_reports=[client_report("downstream", "network_error")])
    uncounted = run(t.bundle())

    assert verdict(counted, t) == ("unverified", ("sdk:network_error",))
    assert verdict(uncounted, t) == ("failed", ())
    assert "propagation held and the envelope was lost in delivery" in uncounted.findings[0].message


def test_a_witness_saying_downstream_never_answered_excuses_it_when_api_is_lost_too() -> None:
    # api's transaction is lost (counted), and its answer carried no downstream witness: the
    # call never reached downstream, which owes nothing.
    t = replace(healthy_trace(), api=None, downstream=None)
    assert t.expectation is not None
    t = replace(
        t,
        expectation=replace(
            t.expectation, witnesses=(WitnessFact(f"{t.trace_id}-{span_id(1, LOCUST_SPAN)}-1", "api"),)
        ),
    )

    report = run(t.bundle(), client_reports=[client_report("api", "queue_overflow")])

    assert verdict(report, t) == ("unverified", ("sdk:queue_overflow",))
    assert [f.service for f in report.findings] == ["api"]


def test_max_unverified_rejects_what_is_not_a_count_or_a_percentage() -> None:
    report = run(healthy_trace().bundle())

    for bad in ("many", "-1", "1.5", "101%", "x%"):
        with pytest.raises(ValueError, match="MAX_UNVERIFIED"):
            report.outcome(bad)


def test_an_unverified_trace_within_a_percentage_passes() -> None:
    bundles = [healthy_trace(n).bundle() for n in range(1, 10)] + [without_downstream(10).bundle()]

    report = run(*bundles, client_reports=[client_report("downstream", "queue_overflow")])

    assert report.verdicts == {"verified": 9, "unverified": 1, "failed": 0}
    assert report.outcome("10%") == ("PASSED", 0)
    assert report.outcome("9%") == ("INCONCLUSIVE", 3)


def test_a_head_that_told_downstream_unsampled_lost_the_trace_to_backpressure_only() -> None:
    # The witness proves the head decided "unsampled" (backpressure): a queue_overflow report
    # cannot explain the head's loss, a backpressure unit can, and downstream follows it.
    told = witnessed(
        replace(healthy_trace(), api=None, downstream=None), f"{healthy_trace().trace_id}-{span_id(1, CALL)}-0"
    )

    overflow_only = run(told.bundle(), client_reports=[client_report("api", "queue_overflow")])
    backpressure = run(
        told.bundle(),
        client_reports=[
            client_report("api", "queue_overflow", at=T0 + 10),
            client_report("api", "backpressure", at=T0 + 20),
        ],
    )

    assert verdict(overflow_only, told) == ("failed", ())
    assert verdict(backpressure, told) == ("unverified", ("sdk:backpressure",))
    assert sorted((f.kind, f.attributed_to) for f in backpressure.findings) == [
        ("missing_transaction", "sdk:backpressure"),
        ("missing_transaction", "sdk:backpressure"),
        ("witness_unsampled", "sdk:backpressure"),
    ]


def test_a_head_whose_downstream_received_a_sampled_call_did_not_lose_it_to_backpressure() -> None:
    told = witnessed(
        replace(healthy_trace(), api=None, downstream=None), f"{healthy_trace().trace_id}-{span_id(1, CALL)}-1"
    )

    report = run(told.bundle(), client_reports=[client_report("api", "backpressure")])

    assert verdict(report, told) == ("failed", ())


def test_a_sample_rate_drop_explains_a_head_loss_only_when_a_witness_shows_the_head_sampled_it_out() -> None:
    # Backpressure that eased before the transaction ended is reported as `sample_rate`; only
    # the witness (downstream told "unsampled" against the caller) makes that a counted cause.
    told = witnessed(
        replace(healthy_trace(), api=None, downstream=None), f"{healthy_trace().trace_id}-{span_id(1, CALL)}-0"
    )
    silent = replace(healthy_trace(2), api=None, downstream=None)
    drops = [client_report("api", "sample_rate", quantity=5)]

    report = run(told.bundle(), silent.bundle(), client_reports=drops)

    assert verdict(report, told) == ("unverified", ("sdk:sample_rate",))
    assert verdict(report, silent) == ("failed", ())


def test_a_service_the_call_never_reached_owes_no_error_either() -> None:
    # downstream_error scenario, but api's call timed out before any answer: downstream never
    # saw the request, so neither its transaction nor its error is owed.
    t = without_downstream()
    assert t.expectation is not None
    timed_out = with_span(t.api, span_id(1, CALL), status="deadline_exceeded", http_status=None)
    t = replace(t, api=timed_out, expectation=replace(t.expectation, expect_errors_from=("downstream",)))

    report = run(t.bundle())

    assert verdict(report, t) == ("verified", ())
    assert [f.kind for f in report.findings] == ["call_not_reached"]


def test_the_heads_own_witness_says_whether_it_sampled_the_trace_out() -> None:
    # An api-only request (no downstream to tell): api's witness carries its own decision.
    t = replace(healthy_trace(), api=None, downstream=None)
    assert t.expectation is not None
    received = f"{t.trace_id}-{span_id(1, LOCUST_SPAN)}-1"

    def deciding(sampled: bool) -> TwoHop:
        assert t.expectation is not None
        exp = replace(t.expectation, expect_services=("api",), witnesses=(WitnessFact(received, "api", sampled),))
        return replace(t, expectation=exp)

    drops = [client_report("api", "sample_rate")]
    sampled_out, kept = (
        run(deciding(False).bundle(), client_reports=drops),
        run(deciding(True).bundle(), client_reports=drops),
    )

    assert verdict(sampled_out, t) == ("unverified", ("sdk:sample_rate",))
    assert verdict(kept, t) == ("failed", ())


def test_a_head_that_sampled_the_trace_out_still_owes_its_error_and_a_dropped_error_explains_it() -> None:
    # Sampling decides transactions, not errors: the head's lost error needs an error drop.
    t = witnessed(
        replace(healthy_trace(), api=None, downstream=None), f"{healthy_trace().trace_id}-{span_id(1, CALL)}-0"
    )
    assert t.expectation is not None
    t = replace(t, expectation=replace(t.expectation, expect_errors_from=("api",)))
    drops = [client_report("api", "backpressure"), client_report("api", "queue_overflow", category="error")]

    report = run(t.bundle(), client_reports=drops)

    assert verdict(report, t) == ("unverified", ("sdk:backpressure", "sdk:queue_overflow"))
