"""What the verifier says: one `Finding` per fault, one verdict per trace, and a `Report` that
counts them per check and per scenario.

Every trace gets one of three verdicts:
- `verified`: every hop was checked on data that arrived (or on the wire, by a witness);
- `failed`: a check failed, or data is missing that no counted cause accounts for;
- `unverified`: data is missing and a specific, counted cause may account for it (an SDK's
  reported drop, its backpressure, a relay-mock refusal): the cause is named.
A note (a call that never reached a service, so owes nothing) changes no verdict.

`Finding` and `TraceVerdict` are defined with the API's models (relay_mock/findings.py): they are
also the wire shape, which `models.VerifyReport` holds as they are. `report_model` turns a
`Report` into that model, at the edge.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from relay_mock import models
from relay_mock.findings import Finding as Finding
from relay_mock.findings import TraceVerdict as TraceVerdict
from relay_mock.verify.model import TraceBundle

# The scenario key for traces found in the store without an expectation.
STORE_ONLY = "(store only)"
VERIFIED, UNVERIFIED, FAILED = "verified", "unverified", "failed"
# How a run ends (the CLI's exit status): nothing failed and unverified traces within the limit;
# something failed; or nothing failed but too many traces could not be verified.
EXIT_PASSED, EXIT_FAILED, EXIT_INCONCLUSIVE = 0, 1, 3
# A run that found no trace and no expectation proved nothing: it is not a pass (a service whose
# DSN points elsewhere would otherwise make CI green). It ends as inconclusive, saying why it may be.
NOTHING_TO_VERIFY = "NOTHING TO VERIFY"
NOTHING_TO_VERIFY_REASONS = (
    "no envelope of a trace arrived in the window: did traffic run, and does SINCE reach back far enough?",
    "the services' DSNs may point at another host, or name a key relay-mock does not know (see /inspect/refusals)",
    "the services may send no traces: SENTRY_ENABLED, SENTRY_TRACES_SAMPLE_RATE, or a sampler that drops them",
    "no expectations were recorded in the window (Locust records one for each request it heads)",
)


def parse_limit(text: str | None) -> tuple[float, bool]:
    """MAX_UNVERIFIED: a count ("12") or a percentage of the traces checked ("2.5%"); "" is 0.

    Returns (value, is_percent); raises ValueError naming the problem."""
    text = (text or "").strip()
    if not text:
        return 0.0, False
    percent = text.endswith("%")
    number = text[:-1].strip() if percent else text
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"MAX_UNVERIFIED={text!r}: expected a count (12) or a percentage (2.5%)") from None
    if value < 0 or value != value or (percent and value > 100) or (not percent and value != int(value)):
        raise ValueError(f"MAX_UNVERIFIED={text!r}: a whole count >= 0, or a percentage from 0% to 100%")
    return value, percent


@dataclass(frozen=True)
class Report:
    traces_checked: int
    expected_traces: int  # traces with an expectation
    sampled_expected: int
    complete: int  # sampled expected traces with every expected transaction present
    failures: int  # findings without attribution
    attributed_losses: int  # findings explained by SDK or relay drops
    failed_traces: int  # traces with at least one failure
    checks: dict[str, dict[str, int]]  # {check: {"passed": n, "failed": n}}, counted in traces
    scenarios: dict[str, dict[str, int]]  # {scenario: {"traces", "verified", "unverified", "failed"}}
    attributions: dict[str, int]  # {"sdk:queue_overflow": n, ...}, counted in findings
    findings: tuple[Finding, ...]
    trace_ids: tuple[str, ...] = field(default=(), repr=False)  # every trace checked, sorted
    # {"verified": n, "unverified": n, "failed": n}, counted in traces
    verdicts: dict[str, int] = field(default_factory=dict)
    # Unverified traces per cause (a trace with two causes counts under each).
    unverified_causes: dict[str, int] = field(default_factory=dict)
    traces: tuple[TraceVerdict, ...] = field(default=(), repr=False)  # one per trace checked, sorted
    notes: int = 0  # findings that owe nothing (calls that never reached a service)

    @property
    def ok(self) -> bool:
        """Something was verified and nothing failed (unverified traces are judged by `outcome`,
        against a limit)."""
        return self.failures == 0 and not self.nothing_to_verify

    @property
    def nothing_to_verify(self) -> bool:
        return self.traces_checked == 0 and self.expected_traces == 0

    def allowed_unverified(self, limit: str | None) -> int:
        value, percent = parse_limit(limit)
        return int(value * self.traces_checked / 100) if percent else int(value)

    def outcome(self, limit: str | None = None) -> tuple[str, int]:
        """("PASSED" | "FAILED" | "INCONCLUSIVE" | "NOTHING TO VERIFY", exit status) with
        MAX_UNVERIFIED = `limit`."""
        if self.nothing_to_verify:
            return NOTHING_TO_VERIFY, EXIT_INCONCLUSIVE
        if self.verdicts.get(FAILED, 0) or self.failures:
            return "FAILED", EXIT_FAILED
        if self.verdicts.get(UNVERIFIED, 0) > self.allowed_unverified(limit):
            return "INCONCLUSIVE", EXIT_INCONCLUSIVE
        return "PASSED", EXIT_PASSED

    @property
    def failed_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.is_failure]

    @property
    def attributed_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.is_unverified]

    @property
    def note_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.note]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        fields = {k: v for k, v in data.items() if k not in ("ok", "outcome", "exit_status", "max_unverified")}
        fields["findings"] = tuple(Finding.from_dict(f) for f in data["findings"])
        fields["trace_ids"] = tuple(data["trace_ids"])
        fields["traces"] = tuple(TraceVerdict.from_dict(t) for t in data.get("traces", []))
        return cls(**fields)

    def verdict_of(self, trace_id: str) -> TraceVerdict | None:
        return next((t for t in self.traces if t.trace_id == trace_id), None)


def build_report(bundles: Sequence[TraceBundle], findings: Iterable[Finding], check_names: Sequence[str]) -> Report:
    ordered = tuple(sorted(findings, key=Finding.sort_key))
    failing: dict[str, set[str]] = {}  # trace id -> checks it failed
    for f in ordered:
        if f.is_failure:
            failing.setdefault(f.trace_id, set()).add(f.check)
    checks = {name: {"passed": 0, "failed": 0} for name in check_names}
    for failed in failing.values():
        for name in failed:
            checks.setdefault(name, {"passed": 0, "failed": 0})["failed"] += 1
    for tally in checks.values():
        tally["passed"] = len(bundles) - tally["failed"]
    attributed = [f for f in ordered if f.is_unverified]
    traces = _verdicts(bundles, ordered)
    causes: Counter[str] = Counter(cause for t in traces for cause in t.causes)
    return Report(
        traces_checked=len(bundles),
        expected_traces=sum(1 for b in bundles if b.expectation is not None),
        sampled_expected=sum(1 for b in bundles if b.expectation is not None and b.expectation.sampled),
        complete=_complete(bundles, ordered),
        failures=sum(1 for f in ordered if f.is_failure),
        attributed_losses=len(attributed),
        failed_traces=len(failing),
        checks=checks,
        scenarios=_scenarios(traces),
        attributions=dict(sorted(Counter(str(f.attributed_to) for f in attributed).items())),
        findings=ordered,
        trace_ids=tuple(t.trace_id for t in traces),
        verdicts={v: sum(1 for t in traces if t.verdict == v) for v in (VERIFIED, UNVERIFIED, FAILED)},
        unverified_causes=dict(sorted(causes.items())),
        traces=traces,
        notes=sum(1 for f in ordered if f.note),
    )


def _verdicts(bundles: Sequence[TraceBundle], findings: Sequence[Finding]) -> tuple[TraceVerdict, ...]:
    failed: set[str] = set()
    causes: dict[str, set[str]] = {}
    for f in findings:
        if f.is_failure:
            failed.add(f.trace_id)
        elif f.is_unverified:
            causes.setdefault(f.trace_id, set()).add(str(f.attributed_to))
    verdicts = []
    for b in sorted(bundles, key=lambda b: b.trace_id):
        scenario = b.expectation.scenario if b.expectation else None
        if b.trace_id in failed:
            verdicts.append(TraceVerdict(b.trace_id, FAILED, scenario))
        elif b.trace_id in causes:
            verdicts.append(TraceVerdict(b.trace_id, UNVERIFIED, scenario, tuple(sorted(causes[b.trace_id]))))
        else:
            verdicts.append(TraceVerdict(b.trace_id, VERIFIED, scenario))
    return tuple(verdicts)


def _complete(bundles: Sequence[TraceBundle], findings: Sequence[Finding]) -> int:
    # A loss explained by a drop is still a loss: the trace is not complete either way.
    incomplete = {f.trace_id for f in findings if f.check == "completeness" and not f.note}
    return sum(
        1 for b in bundles if b.expectation is not None and b.expectation.sampled and b.trace_id not in incomplete
    )


def _scenarios(traces: Sequence[TraceVerdict]) -> dict[str, dict[str, int]]:
    tallies: dict[str, dict[str, int]] = {}
    for t in traces:
        tally = tallies.setdefault(t.scenario or STORE_ONLY, {"traces": 0, VERIFIED: 0, UNVERIFIED: 0, FAILED: 0})
        tally["traces"] += 1
        tally[t.verdict] += 1
    return dict(sorted(tallies.items()))


def report_model(report: Report) -> models.VerifyReport:
    """The verifier's report as the API sends it (`/inspect/verify`, `verify --json`): built once,
    at the edge; its findings and verdicts go in as they are (no copy, no dicts)."""
    return models.VerifyReport(
        ok=report.ok,
        traces_checked=report.traces_checked,
        expected_traces=report.expected_traces,
        sampled_expected=report.sampled_expected,
        complete=report.complete,
        failures=report.failures,
        attributed_losses=report.attributed_losses,
        failed_traces=report.failed_traces,
        checks=report.checks,
        scenarios=report.scenarios,
        attributions=report.attributions,
        findings=list(report.findings),
        trace_ids=list(report.trace_ids),
        verdicts=report.verdicts,
        unverified_causes=report.unverified_causes,
        traces=list(report.traces),
        notes=report.notes,
    )
