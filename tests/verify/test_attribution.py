"""Losses explained by drops: a missing item is not a propagation failure when its project's SDK
reported dropping one (or relay-mock refused one of its requests) around the time of the trace."""

from __future__ import annotations

from dataclasses import replace

from relay_mock.verify.model import TraceBundle
from tests.verify.builders import CONFIG, T0, client_report, healthy_trace, refusal, run, span_id


def _without_downstream(n: int, *, started_at: float = T0) -> TraceBundle:
    return replace(healthy_trace(n, started_at=started_at), downstream=None).bundle()


def test_a_lost_transaction_the_sdk_reported_dropping_is_attributed_not_failed() -> None:
    report = run(_without_downstream(1), client_reports=[client_report("downstream", "queue_overflow")])

    [loss] = report.findings
    assert (loss.kind, loss.service, loss.attributed_to) == ("missing_transaction", "downstream", "sdk:queue_overflow")
    assert report.ok
    assert (report.failures, report.attributed_losses) == (0, 1)
    assert report.checks["completeness"] == {"passed": 1, "failed": 0}
    assert report.attributions == {"sdk:queue_overflow": 1}


def test_a_drop_explains_at_most_as_many_losses_as_its_quantity_oldest_first() -> None:
    bundles = [_without_downstream(n, started_at=T0 + n) for n in (1, 2, 3)]

    report = run(*bundles, client_reports=[client_report("downstream", "network_error", quantity=2)])

    attributed = {f.trace_id: f.attributed_to for f in report.findings}
    assert list(attributed.values()).count("sdk:network_error") == 2
    assert attributed[bundles[2].trace_id] is None
    assert (report.failures, report.attributed_losses, report.ok) == (1, 2, False)


def test_a_drop_reported_before_the_window_explains_nothing() -> None:
    early = client_report("downstream", "queue_overflow", at=T0 - 6)

    report = run(_without_downstream(1), client_reports=[early])

    assert [f.attributed_to for f in report.findings] == [None]


def test_the_window_reaches_back_a_little_for_clock_slack() -> None:
    slightly_early = client_report("downstream", "queue_overflow", at=T0 - 4)

    report = run(_without_downstream(1), client_reports=[slightly_early])

    assert [f.attributed_to for f in report.findings] == ["sdk:queue_overflow"]


def test_a_drop_reported_after_the_trace_ended_plus_the_flush_delay_explains_nothing() -> None:
    # The trace ended at T0 + 0.205; the shipped flush delay is 65 s.
    late = client_report("downstream", "queue_overflow", at=T0 + 0.205 + 66)
    in_time = client_report("downstream", "queue_overflow", at=T0 + 0.205 + 64)

    assert [f.attributed_to for f in run(_without_downstream(1), client_reports=[late]).findings] == [None]
    assert [f.attributed_to for f in run(_without_downstream(1), client_reports=[in_time]).findings] == [
        "sdk:queue_overflow"
    ]


def test_drops_of_another_project_category_or_a_deliberate_reason_explain_nothing() -> None:
    unrelated = [
        client_report("api", "queue_overflow"),
        client_report("downstream", "queue_overflow", category="span", quantity=50),
        client_report("downstream", "sample_rate"),
        client_report("downstream", "before_send"),
    ]

    report = run(_without_downstream(1), client_reports=unrelated)

    assert [f.attributed_to for f in report.findings] == [None]


def test_a_refused_request_of_the_missing_project_is_attributed_to_the_relay() -> None:
    report = run(_without_downstream(1), refusals=[refusal(2, "injected 503")])

    assert [f.attributed_to for f in report.findings] == ["relay:injected 503"]


def test_a_refusal_and_the_sdks_echo_of_it_explain_one_loss_not_two() -> None:
    # sentry-python counts a send the relay refused (other than 429) as network_error: same loss.
    bundles = [_without_downstream(1), _without_downstream(2, started_at=T0 + 1)]
    echo = client_report("downstream", "network_error")

    report = run(*bundles, client_reports=[echo], refusals=[refusal(2, "injected 503", status=503)])

    assert sorted(str(f.attributed_to) for f in report.findings) == ["None", "relay:injected 503"]


def test_a_429_is_not_echoed_by_the_sdk_so_its_drops_still_count() -> None:
    bundles = [_without_downstream(1), _without_downstream(2, started_at=T0 + 1)]
    backoff = client_report("downstream", "ratelimit_backoff")

    report = run(*bundles, client_reports=[backoff], refusals=[refusal(2, "rate limited", status=429)])

    assert sorted(str(f.attributed_to) for f in report.findings) == ["relay:rate limited", "sdk:ratelimit_backoff"]


def test_refusals_are_matched_to_projects_through_the_configured_ids() -> None:
    config = replace(CONFIG, project_ids={"api": 1, "downstream": 7})

    report = run(_without_downstream(1), refusals=[refusal(2, "injected 503")], config=config)

    assert [f.attributed_to for f in report.findings] == [None]


def test_a_missing_error_is_explained_by_dropped_errors() -> None:
    t = healthy_trace()
    assert t.expectation is not None
    expects_error = replace(t, expectation=replace(t.expectation, expect_errors_from=("downstream",)))
    reports = [
        client_report("downstream", "queue_overflow"),
        client_report("downstream", "send_error", category="error"),
    ]

    report = run(expects_error.bundle(), client_reports=reports)

    assert [(f.kind, f.attributed_to) for f in report.findings] == [("missing_error", "sdk:send_error")]


def test_a_broken_link_is_never_explained_by_drops() -> None:
    t = healthy_trace()
    assert t.downstream is not None
    wrong = replace(t, downstream=replace(t.downstream, parent_span_id=span_id(t.n, 0xA2)))
    drops = [client_report("downstream", "queue_overflow", quantity=100)]

    report = run(wrong.bundle(), client_reports=drops, refusals=[refusal(2, "injected 503")])

    assert [(f.kind, f.attributed_to) for f in report.findings] == [("wrong_parent", None)]
