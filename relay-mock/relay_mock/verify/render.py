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

from relay_mock.verify.heap import collector_paused
from relay_mock.verify.report import Finding, Report

ROW_LIMIT = 50  # rows per findings table; the JSON output holds them all
# Above this many traces the JUnit XML is for machines only, and indenting costs seconds.
INDENT_LIMIT = 1000


def render_json(report: Report) -> str:
    return json.dumps(report.to_dict(), indent=2)


def render_table(report: Report, *, color: bool = False, width: int = 120, limit: int = ROW_LIMIT) -> str:
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
    verdict = "PASSED" if report.ok else "FAILED"
    console.print(Text(f"Trace verification {verdict}", style="bold green" if report.ok else "bold red"))
    console.print(_summary(report))
    console.print(_counts("Per check (traces)", "check", report.checks, ("passed", "failed")))
    console.print(
        _counts("Per scenario (traces)", "scenario", report.scenarios, ("traces", "passed", "failed", "attributed"))
    )
    if report.failures:
        console.print(_failures(report.failed_findings, limit))
    if report.attributed_losses:
        console.print(_losses(report.attributed_findings, limit))
    return buffer.getvalue()


def _summary(report: Report) -> Table:
    table = Table(title="Summary", show_header=False)
    table.add_column("what")
    table.add_column("count", justify="right")
    rows = [
        ("traces checked", report.traces_checked),
        ("expected traces (with an expectation)", report.expected_traces),
        ("sampled expected traces", report.sampled_expected),
        ("complete (every expected transaction arrived)", report.complete),
        ("traces failing a check", report.failed_traces),
        ("failures: not explained by the SDK or relay-mock", report.failures),
        ("explained: SDK drops and backpressure, relay refusals", report.attributed_losses),
    ]
    for label, count in rows:
        table.add_row(label, str(count))
    for label, count in report.attributions.items():
        table.add_row(f"  of which {label}", str(count))
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


def _losses(findings: list[Finding], limit: int) -> Table:
    table = Table(title="EXPLAINED, not failures: drops the SDK reported, its backpressure, relay-mock's refusals")
    table.add_column("trace id", no_wrap=True, min_width=32)
    table.add_column("kind")
    table.add_column("service")
    table.add_column("explained by")
    for f in findings[:limit]:
        table.add_row(f.trace_id, f.kind, str(f.service), str(f.attributed_to))
    _more(table, len(findings) - limit)
    return table


def _more(table: Table, hidden: int) -> None:
    if hidden > 0:
        table.add_row(f"... and {hidden} more (see the JSON report)", *([""] * (len(table.columns) - 1)))


def render_junit(report: Report) -> str:
    """One testsuite per check, one testcase per trace; only unexplained findings are failures."""
    with collector_paused():  # hundreds of thousands of elements for a load test: see heap.py
        return _junit(report)


def _junit(report: Report) -> str:
    by_case: dict[tuple[str, str], list[Finding]] = defaultdict(list)
    for f in report.findings:
        by_case[(f.check, f.trace_id)].append(f)
    root = ET.Element(
        "testsuites",
        name="trace verification",
        tests=str(report.traces_checked * len(report.checks)),
        failures=str(sum(t["failed"] for t in report.checks.values())),
    )
    for check, tally in report.checks.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=check,
            tests=str(report.traces_checked),
            failures=str(tally["failed"]),
            errors="0",
            skipped="0",
        )
        for trace_id in report.trace_ids:
            case = ET.SubElement(suite, "testcase", classname=f"trace_verify.{check}", name=trace_id)
            _fill_case(case, by_case.get((check, trace_id), []))
    if len(report.trace_ids) <= INDENT_LIMIT:
        ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def _fill_case(case: ET.Element, findings: list[Finding]) -> None:
    failures = [f for f in findings if f.is_failure]
    if failures:
        message = failures[0].message if len(failures) == 1 else f"{len(failures)} findings"
        failure = ET.SubElement(case, "failure", message=message, type=",".join(sorted({f.kind for f in failures})))
        failure.text = "\n\n".join(_describe(f) for f in failures)
    losses = [f for f in findings if not f.is_failure]
    if losses:
        # Not a failure, but CI readers should still see that the item never arrived.
        ET.SubElement(case, "system-out").text = "\n\n".join(_describe(f) for f in losses)


def _describe(f: Finding) -> str:
    lines = [f"[{f.kind}] {f.message}", f"expected: {f.expected}", f"observed: {f.observed}"]
    if f.attributed_to is not None:
        lines.append(f"lost, explained by {f.attributed_to}")
    lines += [f"envelopes: {', '.join(f.envelope_ids) or '-'}", f"ui: {f.ui_url}"]
    return "\n".join(lines)
