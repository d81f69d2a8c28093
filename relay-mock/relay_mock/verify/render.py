"""Three ways to show a report: a table for people, JSON for tools, JUnit XML for CI.

Each returns a string; the caller decides where it goes (and whether its terminal takes colours).
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from collections import defaultdict

from rich.console import Console
from rich.table import Table
from rich.text import Text

from relay_mock.models import as_json
from relay_mock.verify.heap import collector_paused
from relay_mock.verify.report import NOTHING_TO_VERIFY_REASONS, Finding, Report, report_model

ROW_LIMIT = 50  # rows per findings table; the JSON output holds them all
# Above this many traces the JUnit XML is for machines only, and indenting costs seconds.
INDENT_LIMIT = 1000


def render_json(report: Report, max_unverified: str | None = None) -> str:
    """The whole report, the verdict of every trace, and how the run ends with this limit."""
    outcome, status = report.outcome(max_unverified)
    data = {
        "outcome": outcome,
        "exit_status": status,
        "max_unverified": report.allowed_unverified(max_unverified),
        **as_json(report_model(report)),
    }
    if report.nothing_to_verify:
        data["nothing_to_verify"] = list(NOTHING_TO_VERIFY_REASONS)
    return json.dumps(data, indent=2)


def render_table(
    report: Report, *, color: bool = False, width: int = 120, limit: int = ROW_LIMIT, max_unverified: str | None = None
) -> str:
    """A summary for a terminal. `color=True` only when the output is a TTY."""
    # markup/emoji off: messages hold brackets and colons that rich would otherwise interpret.
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=color,
        color_system="standard" if color else None,
        markup=False,
        emoji=False,
        highlight=False,
    )
    outcome, _ = report.outcome(max_unverified)
    style = {"PASSED": "bold green", "FAILED": "bold red"}.get(outcome, "bold yellow")
    v = report.verdicts
    console.print(
        Text(
            f"Trace verification {outcome}: {v.get('verified', 0)} verified, {v.get('unverified', 0)} unverified"
            f" (allowed: {report.allowed_unverified(max_unverified)}), {v.get('failed', 0)} failed",
            style=style,
        )
    )
    if report.nothing_to_verify:
        console.print(
            Text("Nothing to verify: no trace and no expectation in the window. Likely reasons:", style=style)
        )
        for reason in NOTHING_TO_VERIFY_REASONS:
            console.print(f"  - {reason}")
    console.print(_summary(report))
    console.print(_counts("Per check (traces)", "check", report.checks, ("passed", "failed")))
    console.print(
        _counts("Per scenario (traces)", "scenario", report.scenarios, ("traces", "verified", "unverified", "failed"))
    )
    if report.failures:
        console.print(_failures(report.failed_findings, limit))
    if report.attributed_losses:
        console.print(_losses(report.attributed_findings, limit))
    if report.notes:
        console.print(_notes(report.note_findings, limit))
    return buffer.getvalue()


def _summary(report: Report) -> Table:
    table = Table(title="Summary", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("traces checked", report.traces_checked),
        ("  verified: every hop checked on data that arrived", report.verdicts.get("verified", 0)),
        ("  unverified: data missing, a counted cause may account for it", report.verdicts.get("unverified", 0)),
        *((f"    of which {cause}", n) for cause, n in report.unverified_causes.items()),
        ("  failed: a check failed, or data missing that nothing accounts for", report.verdicts.get("failed", 0)),
        ("expected traces (with an expectation)", report.expected_traces),
        ("sampled expected traces", report.sampled_expected),
        ("complete (every expected transaction arrived)", report.complete),
        ("failed findings", report.failures),
        ("findings a counted cause may explain", report.attributed_losses),
        ("calls that never reached a service (owe nothing)", report.notes),
    ]
    for label, count in rows:
        table.add_row(label, str(count))
    return table


def _counts(title: str, key: str, counts: dict[str, dict[str, int]], columns: tuple[str, ...]) -> Table:
    table = Table(title=title)
    table.add_column(key)
    for column in columns:
        table.add_column(column, justify="right")
    for name, tally in counts.items():
        failed = tally.get("failed", 0) > 0
        table.add_row(name, *(str(tally.get(c, 0)) for c in columns), style="red" if failed else None)
    return table


def _failures(findings: list[Finding], limit: int) -> Table:
    title = "FAILURES: broken propagation or content, not explained by the SDK or relay-mock"
    table = Table(title=title, title_style="bold red")
    table.add_column("trace id", no_wrap=True, min_width=32)
    table.add_column("check / kind")
    table.add_column("what happened (and where to look)")
    for f in findings[:limit]:
        details = Text(f.message)
        details.append(f"\nexpected {f.expected}\nobserved {f.observed}\n{f.ui_url}", style="dim")
        table.add_row(f.trace_id, f"{f.check}\n{f.kind}", details)
    _more(table, len(findings) - limit)
    return table


def _notes(findings: list[Finding], limit: int) -> Table:
    table = Table(title="NOTES: calls that never reached their service, so owe no transaction")
    table.add_column("trace id", no_wrap=True, min_width=32)
    table.add_column("what happened")
    for f in findings[:limit]:
        table.add_row(f.trace_id, f.message)
    _more(table, len(findings) - limit)
    return table


def _losses(findings: list[Finding], limit: int) -> Table:
    table = Table(
        title="UNVERIFIED: data missing; a counted cause (SDK drops, backpressure, refusals) may account for it"
    )
    table.add_column("trace id", no_wrap=True, min_width=32)
    table.add_column("kind")
    table.add_column("service")
    table.add_column("counted cause")
    for f in findings[:limit]:
        table.add_row(f.trace_id, f.kind, str(f.service), str(f.attributed_to))
    _more(table, len(findings) - limit)
    return table


def _more(table: Table, hidden: int) -> None:
    if hidden > 0:
        table.add_row(f"... and {hidden} more (see the JSON report)", *([""] * (len(table.columns) - 1)))


def render_junit(report: Report, max_unverified: str | None = None) -> str:
    """One testsuite per check, one testcase per trace: failed findings are failures, findings a
    counted cause may explain are skipped (with the cause), notes go to system-out."""
    with collector_paused():  # hundreds of thousands of elements for a load test: see heap.py
        return _junit(report)


def _junit(report: Report) -> str:
    by_case: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in report.findings:
        by_case[(f.check, f.trace_id)].append(f)
    skipped_cases: dict[str, int] = defaultdict(int)
    for (check, _), findings in by_case.items():
        if not any(f.is_failure for f in findings) and any(f.is_unverified for f in findings):
            skipped_cases[check] += 1
    root = ET.Element(
        "testsuites",
        name="trace verification",
        tests=str(report.traces_checked * len(report.checks)),
        failures=str(sum(t["failed"] for t in report.checks.values())),
        skipped=str(sum(skipped_cases.values())),
    )
    for check, tally in report.checks.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=check,
            tests=str(report.traces_checked),
            failures=str(tally["failed"]),
            errors="0",
            skipped=str(skipped_cases.get(check, 0)),
        )
        for trace_id in report.trace_ids:
            case = ET.SubElement(suite, "testcase", classname=f"trace_verify.{check}", name=trace_id)
            _fill_case(case, by_case.get((check, trace_id), []))
    if report.nothing_to_verify:
        # No check ran on anything: one case says so, as an error, so a CI dashboard is not green.
        suite = ET.SubElement(root, "testsuite", name="run", tests="1", failures="0", errors="1", skipped="0")
        case = ET.SubElement(suite, "testcase", classname="trace_verify.run", name="nothing to verify")
        error = ET.SubElement(case, "error", message="nothing to verify: no trace and no expectation in the window")
        error.text = "\n".join(f"- {reason}" for reason in NOTHING_TO_VERIFY_REASONS)
        root.set("tests", "1")
        root.set("errors", "1")
    if len(report.trace_ids) <= INDENT_LIMIT:
        ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _fill_case(case: ET.Element, findings: list[Finding]) -> None:
    failures = [f for f in findings if f.is_failure]
    if failures:
        message = failures[0].message if len(failures) == 1 else f"{len(failures)} findings"
        failure = ET.SubElement(case, "failure", message=message, type=",".join(sorted({f.kind for f in failures})))
        failure.text = "\n\n".join(_describe(f) for f in failures)
    losses = [f for f in findings if f.is_unverified]
    if losses and not failures:
        causes = ", ".join(sorted({str(f.attributed_to) for f in losses}))
        skipped = ET.SubElement(case, "skipped", message=f"unverified: data missing, may be explained by {causes}")
        skipped.text = "\n\n".join(_describe(f) for f in losses)
    notes = [f for f in findings if f.note]
    if notes or (losses and failures):
        # Not a verdict of their own, but CI readers should still see them.
        ET.SubElement(case, "system-out").text = "\n\n".join(
            _describe(f) for f in (*losses, *notes) if failures or f.note
        )


def _describe(f: Finding) -> str:
    lines = [f"[{f.kind}] {f.message}", f"expected: {f.expected}", f"observed: {f.observed}"]
    if f.attributed_to is not None:
        lines.append(f"missing; a counted cause may account for it: {f.attributed_to}")
    lines += [f"envelopes: {', '.join(f.envelope_ids) or '-'}", f"ui: {f.ui_url}"]
    return "\n".join(lines)
