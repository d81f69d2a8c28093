"""What the verifier says: one `Finding` per fault, and a `Report` that counts them per check and
per scenario, keeping losses explained by SDK or relay drops apart from real failures.

Plain data with `to_dict` / `from_dict`, so the JSON output can be read back and compared.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from relay_mock.verify.model import TraceBundle

# The scenario key for traces found in the store without an expectation.
STORE_ONLY = "(store only)"


@dataclass(frozen=True)
class Finding:
    check: str  # completeness, linkage, identity, dsc, sampling, errors, db_spans, timing
    kind: str  # e.g. missing_transaction, wrong_parent
    trace_id: str
    message: str
    expected: str
    observed: str
    envelope_ids: tuple[str, ...]
    scenario: str | None
    # "sdk:<reason>" or "relay:<reason>" when a reported drop explains the fault; such a finding is
    # a lost item, not a failure.
    attributed_to: str | None
    ui_url: str
    # The service the finding is about, when it is about one (the missing one, for losses).
    service: str | None = None

    @property
    def is_failure(self) -> bool:
        return self.attributed_to is None

    def sort_key(self) -> tuple[str, str, str, str, tuple[str, ...]]:
        return (self.trace_id, self.check, self.kind, self.message, self.envelope_ids)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["envelope_ids"] = list(self.envelope_ids)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Finding:
        return cls(**{**data, "envelope_ids": tuple(data["envelope_ids"])})


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
    scenarios: dict[str, dict[str, int]]  # {scenario: {"traces", "passed", "failed", "attributed"}}
    attributions: dict[str, int]  # {"sdk:queue_overflow": n, ...}
    findings: tuple[Finding, ...]
    trace_ids: tuple[str, ...] = field(default=(), repr=False)  # every trace checked, sorted

    @property
    def ok(self) -> bool:
        return self.failures == 0

    @property
    def failed_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.is_failure]

    @property
    def attributed_findings(self) -> list[Finding]:
        return [f for f in self.findings if not f.is_failure]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["findings"] = [f.to_dict() for f in self.findings]
        data["trace_ids"] = list(self.trace_ids)
        return {"ok": self.ok, **data}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Report:
        fields = {k: v for k, v in data.items() if k != "ok"}
        fields["findings"] = tuple(Finding.from_dict(f) for f in data["findings"])
        fields["trace_ids"] = tuple(data["trace_ids"])
        return cls(**fields)


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
    attributed = [f for f in ordered if not f.is_failure]
    return Report(
        traces_checked=len(bundles),
        expected_traces=sum(1 for b in bundles if b.expectation is not None),
        sampled_expected=sum(1 for b in bundles if b.expectation is not None and b.expectation.sampled),
        complete=_complete(bundles, ordered),
        failures=len(ordered) - len(attributed),
        attributed_losses=len(attributed),
        failed_traces=len(failing),
        checks=checks,
        scenarios=_scenarios(bundles, ordered, failing),
        attributions=dict(sorted(Counter(str(f.attributed_to) for f in attributed).items())),
        findings=ordered,
        trace_ids=tuple(sorted(b.trace_id for b in bundles)),
    )


def _complete(bundles: Sequence[TraceBundle], findings: Sequence[Finding]) -> int:
    # A loss explained by a drop is still a loss: the trace is not complete either way.
    incomplete = {f.trace_id for f in findings if f.check == "completeness"}
    return sum(
        1 for b in bundles if b.expectation is not None and b.expectation.sampled and b.trace_id not in incomplete
    )


def _scenarios(
    bundles: Sequence[TraceBundle], findings: Sequence[Finding], failing: dict[str, set[str]]
) -> dict[str, dict[str, int]]:
    scenario_of = {b.trace_id: b.expectation.scenario if b.expectation else STORE_ONLY for b in bundles}
    tallies: dict[str, dict[str, int]] = {}

    def tally(scenario: str) -> dict[str, int]:
        return tallies.setdefault(scenario, {"traces": 0, "passed": 0, "failed": 0, "attributed": 0})

    for trace_id, scenario in scenario_of.items():
        tally(scenario)["traces"] += 1
        tally(scenario)["failed" if trace_id in failing else "passed"] += 1
    for f in findings:
        if not f.is_failure:
            tally(scenario_of.get(f.trace_id, STORE_ONLY))["attributed"] += 1
    return dict(sorted(tallies.items()))
