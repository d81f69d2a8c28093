"""Backpressure: under load sentry-python lowers its sample rate, overrides the caller's decision
and rewrites the DSC's sample_rate. Those marks are explained, not failed, only when the service
reported backpressure drops around that time (one lost transaction per reported unit) and, for a
DSC, its numbers are the caller's with a halved rate; anything else stays a failure."""

from __future__ import annotations

from dataclasses import replace

from relay_mock.verify.report import Report
from tests.verify.builders import CONFIG, T0, TwoHop, client_report, error_event, head_dsc, healthy_trace, run

BACKPRESSURE = client_report("api", "backpressure", at=T0 + 20)


def sampled_with(sample_rand: float, n: int = 1, started_at: float = T0) -> TwoHop:
    """A healthy trace whose caller (Locust) sampled it at 1.0 with this sample_rand."""
    trace = healthy_trace(n, started_at=started_at)
    dsc = head_dsc(n, sample_rand=f"{sample_rand:.6f}")
    assert trace.expectation is not None and trace.api is not None and trace.downstream is not None
    return replace(
        trace,
        expectation=replace(trace.expectation, sample_rand=sample_rand, baggage=dsc),
        api=replace(trace.api, dsc=dsc),
        downstream=replace(trace.downstream, dsc=dsc),
    )


def unsampled_by_api(sample_rand: float, n: int = 1, started_at: float = T0) -> TwoHop:
    """api's lowered rate turned the trace away: neither service sent a transaction."""
    return replace(sampled_with(sample_rand, n, started_at), api=None, downstream=None)


def explained(report: Report) -> list[tuple[str, str | None, str | None]]:
    return sorted((f.kind, f.service, f.attributed_to) for f in report.findings)


def test_a_trace_the_heads_lowered_rate_turned_away_is_explained_for_both_services() -> None:
    report = run(unsampled_by_api(0.7).bundle(), client_reports=[BACKPRESSURE])

    assert explained(report) == [
        ("missing_transaction", "api", "sdk:backpressure"),
        ("missing_transaction", "downstream", "sdk:backpressure"),
    ]
    assert report.ok and report.attributions == {"sdk:backpressure": 2}
    assert report.verdicts == {"verified": 0, "unverified": 1, "failed": 0}
    assert report.traces[0].causes == ("sdk:backpressure",)


def test_one_reported_unit_explains_one_head_loss_oldest_first() -> None:
    first, second = unsampled_by_api(0.7, 1, T0), unsampled_by_api(0.7, 2, T0 + 1)
    bundles = [first.bundle(), second.bundle()]

    report = run(*bundles, client_reports=[BACKPRESSURE])

    by_trace = {(f.trace_id, f.service): f.attributed_to for f in report.findings}
    assert by_trace[(first.trace_id, "api")] == "sdk:backpressure"
    assert by_trace[(second.trace_id, "api")] is None
    # downstream follows its head only where the head's own loss took a backpressure unit.
    assert by_trace[(first.trace_id, "downstream")] == "sdk:backpressure"
    assert by_trace[(second.trace_id, "downstream")] is None
    assert not report.ok
    assert {t.trace_id: t.verdict for t in report.traces} == {first.trace_id: "unverified", second.trace_id: "failed"}


def test_without_a_backpressure_report_nothing_is_explained() -> None:
    deliberate = client_report("api", "sample_rate", at=T0 + 20)

    report = run(unsampled_by_api(0.7).bundle(), client_reports=[deliberate])

    assert {f.attributed_to for f in report.findings} == {None}


def test_a_backpressure_report_after_the_flush_delay_explains_nothing() -> None:
    late = client_report("api", "backpressure", at=T0 + 600)

    report = run(unsampled_by_api(0.7).bundle(), client_reports=[late], config=replace(CONFIG, flush_delay_s=60))

    assert {f.attributed_to for f in report.findings} == {None}


def test_a_head_loss_is_not_backpressure_when_downstream_received_a_sampled_call() -> None:
    # downstream's transaction proves api kept the trace: its own transaction went missing.
    trace = replace(sampled_with(0.7), api=None)

    report = run(trace.bundle(), client_reports=[BACKPRESSURE])

    [loss] = [f for f in report.findings if f.kind == "missing_transaction"]
    assert (loss.service, loss.attributed_to) == ("api", None)


def test_a_downstream_that_lowered_its_own_rate_needs_its_own_reports() -> None:
    trace = replace(sampled_with(0.7), downstream=None)

    alone = run(trace.bundle(), client_reports=[BACKPRESSURE])
    reported = run(trace.bundle(), client_reports=[client_report("downstream", "backpressure", at=T0 + 20)])

    assert [(f.service, f.attributed_to) for f in alone.findings] == [("downstream", None)]
    assert [(f.service, f.attributed_to) for f in reported.findings] == [("downstream", "sdk:backpressure")]


def test_a_dsc_whose_sample_rate_api_halved_is_explained() -> None:
    trace = sampled_with(0.3)
    assert trace.api is not None and trace.expectation is not None and trace.expectation.baggage is not None
    trace = replace(trace, api=replace(trace.api, dsc={**trace.expectation.baggage, "sample_rate": "0.5"}))

    unexplained = run(trace.bundle())
    report = run(trace.bundle(), client_reports=[BACKPRESSURE])

    assert {f.kind for f in unexplained.findings} == {"dsc_mismatch", "dsc_wrong_head"}
    assert not unexplained.ok
    assert {(f.kind, f.attributed_to) for f in report.findings} == {
        ("dsc_mismatch", "sdk:backpressure"),
        ("dsc_wrong_head", "sdk:backpressure"),
    }
    assert report.ok


def test_a_dsc_that_differs_in_anything_but_a_halved_sample_rate_is_still_a_failure() -> None:
    trace = sampled_with(0.3)
    assert trace.api is not None and trace.expectation is not None and trace.expectation.baggage is not None
    baggage = trace.expectation.baggage
    for changed in ({"sample_rate": "0.3"}, {"sample_rate": "0.5", "release": "api@2.0.0"}):
        broken = replace(trace, api=replace(trace.api, dsc={**baggage, **changed}))

        report = run(broken.bundle(), client_reports=[BACKPRESSURE])

        assert report.findings and {f.attributed_to for f in report.findings} == {None}, changed


def test_the_stale_sampled_flag_of_a_lowered_dsc_is_explained() -> None:
    # api turned the trace away (sample_rand 0.7 against 0.5) but still reported an error, whose
    # DSC says sampled=true with the lowered rate.
    trace = unsampled_by_api(0.7)
    assert trace.expectation is not None and trace.expectation.baggage is not None
    lowered = {**trace.expectation.baggage, "sample_rate": "0.5"}
    error = replace(error_event(trace, project="api"), dsc=lowered)
    trace = replace(trace, errors=(error,))

    report = run(trace.bundle(), client_reports=[BACKPRESSURE])

    kinds = {(f.kind, f.attributed_to) for f in report.findings}
    assert ("sampling_contradiction", "sdk:backpressure") in kinds
    assert report.ok, [f for f in report.findings if f.is_failure]


def test_a_lowered_dsc_that_downstream_copied_needs_reports_from_api_only() -> None:
    trace = sampled_with(0.3)
    assert trace.api is not None and trace.downstream is not None and trace.expectation is not None
    assert trace.expectation.baggage is not None
    lowered = {**trace.expectation.baggage, "sample_rate": "0.25"}
    trace = replace(trace, api=replace(trace.api, dsc=lowered), downstream=replace(trace.downstream, dsc=lowered))

    from_api = run(trace.bundle(), client_reports=[BACKPRESSURE])
    from_downstream = run(trace.bundle(), client_reports=[client_report("downstream", "backpressure", at=T0 + 20)])

    assert from_api.ok and {f.attributed_to for f in from_api.findings} == {"sdk:backpressure"}
    assert not from_downstream.ok


def test_backpressure_explains_its_signature_first_and_leaves_other_drops_to_other_losses() -> None:
    # Older: both services missing (the head turned the trace away). Newer: only api's own
    # transaction missing, downstream present (a queue overflow after api kept the trace).
    turned_away = unsampled_by_api(0.7, 1, T0)
    overflowed = replace(sampled_with(0.7, 2, T0 + 1), api=None)
    overflow = client_report("api", "queue_overflow", at=T0 + 20)

    report = run(turned_away.bundle(), overflowed.bundle(), client_reports=[BACKPRESSURE, overflow])

    assert {(f.trace_id, f.service): f.attributed_to for f in report.findings} == {
        (turned_away.trace_id, "api"): "sdk:backpressure",
        (turned_away.trace_id, "downstream"): "sdk:backpressure",
        (overflowed.trace_id, "api"): "sdk:queue_overflow",
    }
    assert report.ok


def test_a_lowered_dsc_carried_only_after_a_lost_head_is_the_heads_doing() -> None:
    # api lowered the rate, sampled the trace, then lost its envelope (queue_overflow):
    # downstream's copy of the lowered DSC is explained by api's backpressure report.
    trace = sampled_with(0.3)
    assert trace.downstream is not None and trace.expectation is not None and trace.expectation.baggage is not None
    lowered = {**trace.expectation.baggage, "sample_rate": "0.5"}
    lost_head = replace(trace, api=None, downstream=replace(trace.downstream, dsc=lowered))

    # A healthy trace of the run shows api is a service that calls others (a head that sends).
    report = run(
        lost_head.bundle(),
        healthy_trace(2).bundle(),
        client_reports=[client_report("api", "queue_overflow"), BACKPRESSURE],
    )

    assert {(f.kind, f.attributed_to) for f in report.findings} == {
        ("missing_transaction", "sdk:queue_overflow"),
        ("dsc_wrong_head", "sdk:backpressure"),
    }


def test_a_store_only_dsc_with_a_stale_sampled_flag_is_explained_by_backpressure_at_the_time() -> None:
    # No expectation to say the caller's rate: a rate of 1/2**k beside sampled=true and a
    # sample_rand above it is what a halved rate leaves; the carrier reported backpressure.
    trace = healthy_trace()
    assert trace.api is not None and trace.downstream is not None
    stale = head_dsc(1, sample_rate="0.5", sample_rand="0.9", sampled="true")
    lowered = replace(
        trace, expectation=None, api=replace(trace.api, dsc=stale), downstream=replace(trace.downstream, dsc=stale)
    )

    alone = run(lowered.bundle())
    reported = run(lowered.bundle(), client_reports=[BACKPRESSURE])

    assert {(f.kind, f.attributed_to) for f in alone.findings} == {("sampling_contradiction", None)}
    assert {(f.kind, f.attributed_to) for f in reported.findings} == {("sampling_contradiction", "sdk:backpressure")}
