"""Rendering: JSON that reads back into the same report, JUnit XML that CI understands, and a
table that names the failing traces and keeps explained losses apart."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import replace

from relay_mock.verify.checks import CHECKS
from relay_mock.verify.render import render_json, render_junit, render_table
from relay_mock.verify.report import Report
from tests.verify.builders import T0, client_report, healthy_trace, run, span_id


def _mixed_report() -> Report:
    """One healthy trace, one with a wrong parent, one loss the SDK explains."""
    wrong = healthy_trace(2)
    assert wrong.downstream is not None
    wrong = replace(wrong, downstream=replace(wrong.downstream, parent_span_id=span_id(2, 0xA2)))
    lost = replace(healthy_trace(3, started_at=T0 + 3), downstream=None)
    return run(
        healthy_trace(1).bundle(),
        wrong.bundle(),
        lost.bundle(),
        client_reports=[client_report("downstream", "queue_overflow")],
    )


def test_json_reads_back_into_the_same_report() -> None:
    report = _mixed_report()

    data = json.loads(render_json(report))

    assert Report.from_dict(data) == report
    assert data["ok"] is False
    assert data["findings"][0]["envelope_ids"] == ["env-downstream-2"]


def test_junit_has_one_suite_per_check_and_one_case_per_trace() -> None:
    report = _mixed_report()

    root = ET.fromstring(render_junit(report))

    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == list(CHECKS)
    assert all(len(s.findall("testcase")) == 3 for s in suites)
    assert root.get("failures") == "1"


def test_junit_fails_only_the_broken_case_and_says_what_was_expected() -> None:
    report = _mixed_report()
    wrong_trace = healthy_trace(2).trace_id

    root = ET.fromstring(render_junit(report))

    failed = [
        (s.get("name"), c.get("name"), c.find("failure")) for s in root for c in s if c.find("failure") is not None
    ]
    assert [(check, trace) for check, trace, _ in failed] == [("linkage", wrong_trace)]
    failure = failed[0][2]
    assert failure is not None and failure.get("type") == "wrong_parent"
    assert f"observed: {span_id(2, 0xA2)}" in (failure.text or "")
    assert "expected: one of the call spans" in (failure.text or "")


def test_junit_reports_an_unverified_trace_as_skipped_with_its_cause() -> None:
    root = ET.fromstring(render_junit(_mixed_report()))
    lost_trace = healthy_trace(3).trace_id

    [case] = [c for c in root.iterfind("testsuite[@name='completeness']/testcase") if c.get("name") == lost_trace]

    assert case.find("failure") is None
    skipped = case.find("skipped")
    assert skipped is not None and "sdk:queue_overflow" in (skipped.get("message") or "")
    assert root.get("skipped") == "1"
    assert root.find("testsuite[@name='completeness']").get("skipped") == "1"  # type: ignore[union-attr]


def test_json_carries_the_verdict_of_every_trace_and_the_outcome() -> None:
    data = json.loads(render_json(_mixed_report(), max_unverified="5"))

    verdicts = {t["trace_id"]: (t["verdict"], t["causes"]) for t in data["traces"]}
    assert verdicts == {
        healthy_trace(1).trace_id: ("verified", []),
        healthy_trace(2).trace_id: ("failed", []),
        healthy_trace(3).trace_id: ("unverified", ["sdk:queue_overflow"]),
    }
    assert (data["outcome"], data["exit_status"], data["max_unverified"]) == ("FAILED", 1, 5)


def test_the_table_names_failing_traces_and_keeps_explained_losses_apart() -> None:
    report = _mixed_report()

    table = render_table(report)

    failures, _, losses = table.partition("UNVERIFIED:")
    assert "Trace verification FAILED: 1 verified, 1 unverified (allowed: 0), 1 failed" in table
    assert healthy_trace(2).trace_id in failures and "wrong_parent" in failures
    assert healthy_trace(3).trace_id in losses and "sdk:queue_overflow" in losses
    assert healthy_trace(1).trace_id not in table


def test_the_table_has_no_colour_codes_unless_asked() -> None:
    report = _mixed_report()

    assert "\x1b[" not in render_table(report)
    assert "\x1b[" in render_table(report, color=True)


def test_a_passing_report_says_so() -> None:
    table = render_table(run(healthy_trace().bundle()))

    assert "PASSED" in table and "FAILURES" not in table


def test_an_empty_run_is_nothing_to_verify_in_the_table_json_and_junit_alike() -> None:
    report = run()

    assert report.outcome() == ("NOTHING TO VERIFY", 3) and not report.ok
    assert "Nothing to verify" in render_table(report) and "DSNs" in render_table(report)
    data = json.loads(render_json(report))
    assert (data["outcome"], data["exit_status"], data["ok"]) == ("NOTHING TO VERIFY", 3, False)
    assert len(data["nothing_to_verify"]) >= 3
    suites = ET.fromstring(render_junit(report))
    assert suites.get("errors") == "1" and suites.find("./testsuite/testcase/error") is not None


def test_a_run_with_a_trace_is_never_nothing_to_verify() -> None:
    report = run(healthy_trace(1).bundle())

    assert report.outcome() == ("PASSED", 0)
    assert "nothing_to_verify" not in json.loads(render_json(report))
    assert "Nothing to verify" not in render_table(report)
