"""The report: counts per check and per scenario, a deterministic order, links into the UI."""

from __future__ import annotations

import gc
from dataclasses import replace

from relay_mock.verify.model import VerifyConfig
from tests.verify.builders import T0, client_report, healthy_trace, run, span_id


def test_a_trace_fails_a_check_when_it_has_an_unexplained_finding_of_that_check() -> None:
    good = healthy_trace(1)
    wrong = healthy_trace(2, scenario="slow_downstream")
    assert wrong.downstream is not None
    wrong = replace(wrong, downstream=replace(wrong.downstream, parent_span_id=span_id(2, 0xA2)))
    lost = replace(healthy_trace(3, started_at=T0 + 3), downstream=None)

    report = run(
        good.bundle(),
        wrong.bundle(),
        lost.bundle(),
        client_reports=[client_report("downstream", "queue_overflow", at=T0 + 10)],
    )

    assert report.checks["linkage"] == {"passed": 2, "failed": 1}
    assert report.checks["completeness"] == {"passed": 3, "failed": 0}
    assert all(report.checks[c] == {"passed": 3, "failed": 0} for c in report.checks if c not in ("linkage",))
    assert report.scenarios == {
        "orders": {"traces": 2, "verified": 1, "unverified": 1, "failed": 0},
        "slow_downstream": {"traces": 1, "verified": 0, "unverified": 0, "failed": 1},
    }
    assert report.verdicts == {"verified": 1, "unverified": 1, "failed": 1}
    assert report.unverified_causes == {"sdk:queue_overflow": 1}
    assert (report.traces_checked, report.expected_traces, report.sampled_expected) == (3, 3, 3)
    assert (report.complete, report.failed_traces, report.failures, report.attributed_losses) == (2, 1, 1, 1)


def test_traces_without_expectation_are_counted_apart() -> None:
    report = run(replace(healthy_trace(), expectation=None).bundle())

    assert report.scenarios == {"(store only)": {"traces": 1, "verified": 1, "unverified": 0, "failed": 0}}
    assert (report.expected_traces, report.sampled_expected, report.complete) == (0, 0, 0)


def test_the_report_does_not_depend_on_the_order_of_the_bundles() -> None:
    bundles = [replace(healthy_trace(n), downstream=None).bundle() for n in (3, 1, 2)]

    forwards, backwards = run(*bundles), run(*reversed(bundles))

    assert forwards == backwards
    assert [f.trace_id for f in forwards.findings] == sorted(f.trace_id for f in forwards.findings)


def test_every_finding_links_to_its_trace_in_the_ui() -> None:
    t = replace(healthy_trace(), downstream=None)

    report = run(t.bundle(), config=VerifyConfig(ui_base_url="http://relay:9000/"))

    assert report.findings[0].ui_url == f"http://relay:9000/#/traces/{t.trace_id}"
    assert report.findings[0].scenario == "orders"


def test_verify_leaves_the_garbage_collector_as_it_found_it() -> None:
    assert gc.isenabled()

    run(healthy_trace().bundle())

    assert gc.isenabled()
