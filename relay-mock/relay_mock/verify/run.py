"""The trace verifier as one service: `run` collects a window's traces from the store, runs every
check on them (the built-in ones and those registered with `checks.register_check`), checks the
logs and metrics against their requests' traces (correlation.py) and returns the report.

`/inspect/verify` (so the CLI and `make verify-traces`) and MCP's verify tool are adapters over
it; the trace pages read through `relay_mock.verify.traces`, which runs the same checks.

A custom check registers at import of its module: import that module here, beside `pitfalls`,
and every reader of the verifier counts its findings like the built-in ones.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from relay_mock import models
from relay_mock.settings import Project, RelaySettings
from relay_mock.store.read_pool import Reader

# Checks that register themselves at import: their findings count like the built-in ones.
from relay_mock.verify import pitfalls  # noqa: F401  (sdk_pitfalls: shared traces, the SDK's own DSN calls)
from relay_mock.verify.checks import verify
from relay_mock.verify.collect import Collected, collect
from relay_mock.verify.correlation import check_correlation, collect_correlation, with_correlation
from relay_mock.verify.model import VerifyConfig
from relay_mock.verify.report import Report, report_model
from relay_mock.verify.topology import parse_topology

# Waits up to the given seconds for the store to change (the live feed's `changed`).
WaitForChange = Callable[[float], Awaitable[Any]]


def verify_config(
    settings: RelaySettings, projects: dict[int, Project], *, until: float | None = None, expect: Any = None
) -> VerifyConfig:
    """How to verify, from relay-mock's settings and projects, and an expectations file's content
    (`expect`; raises `topology.TopologyError` naming what is wrong in it)."""
    config = VerifyConfig(
        public_keys={p.name: p.public_key for p in projects.values()},
        project_ids={p.name: p.id for p in projects.values()},
        ui_base_url=settings.public_url,
        until=until,
    )
    return parse_topology(expect, config) if expect is not None else config


@dataclass(frozen=True)
class Outcome:
    """A run's report, how long it waited for traces still arriving, and how many still were."""

    report: Report
    waited_s: float
    still_pending: int

    def to_model(self) -> models.Verdict:
        return models.Verdict(
            ok=self.report.ok,
            report=report_model(self.report),
            waited_s=round(self.waited_s, 3),
            still_pending=self.still_pending,
        )


async def run(
    reader: Reader,
    config: VerifyConfig,
    *,
    since: float | None,
    until: float | None,
    trace_id: str | None = None,
    deadline: float | None = None,
    wait_for_change: WaitForChange | None = None,
) -> Outcome:
    """Verify the traces in the window (or one trace). Until `deadline` (a `time.monotonic()`
    moment) the run waits, through `wait_for_change`, while sampled expected traces still miss
    transactions."""
    started = time.monotonic()
    while True:
        # Segment spans stand where transactions stood (SENTRY_TRACE_LIFECYCLE=stream): collect reads both.
        collected: Collected = await reader.run(collect, since=since, until=until, trace_id=trace_id)
        remaining = (deadline or 0.0) - time.monotonic()
        if collected.pending == 0 or remaining <= 0 or wait_for_change is None:
            break
        await wait_for_change(min(remaining, 1.0))
    report = await asyncio.to_thread(
        verify, collected.bundles, client_reports=collected.client_reports, refusals=collected.refusals, config=config
    )
    # Logs and metrics against their requests' traces (verify/correlation.py), added to the report.
    correlation = await reader.run(collect_correlation, since=since, until=until)
    found = check_correlation(correlation, ui_base_url=config.ui_base_url)
    scenarios = {b.trace_id: b.expectation.scenario for b in collected.bundles if b.expectation is not None}
    report = with_correlation(report, [f for f in found if trace_id is None or f.trace_id == trace_id], scenarios)
    return Outcome(report, time.monotonic() - started, collected.pending)
