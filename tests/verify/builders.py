"""Crafted traces for the verifier's tests: a healthy two-hop trace, and small helpers to break it.

Every test starts from `healthy_trace()` and changes one thing with `dataclasses.replace`, so
the difference from a healthy trace is the whole story of the test.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from relay_mock.verify.checks import verify
from relay_mock.verify.model import (
    ClientReportFact,
    ErrorFact,
    ExpectationFact,
    ProfileFact,
    RefusalFact,
    SpanFact,
    TraceBundle,
    TransactionFact,
    VerifyConfig,
)
from relay_mock.verify.report import Report
from relay_mock.verify.topology import load_topology, parse_topology

T0 = 1_700_000_000.0
API_KEY = "a1" * 16
DOWNSTREAM_KEY = "d2" * 16
# The shipped expectations file for the sandbox's topology (api -> downstream).
SANDBOX_EXPECT = Path(__file__).resolve().parents[2] / "expectations" / "sandbox.yaml"
# relay-mock's projects, as its settings would give them.
BASE_CONFIG = VerifyConfig(
    public_keys={"api": API_KEY, "downstream": DOWNSTREAM_KEY}, project_ids={"api": 1, "downstream": 2}
)
CONFIG = parse_topology(load_topology(SANDBOX_EXPECT.read_text()), BASE_CONFIG)

# The low half of every span id says which span it is; the high half which trace (see `span_id`).
LOCUST_SPAN, API_TX, API_DB, CALL, DOWNSTREAM_TX, DOWNSTREAM_DB = 0xA0, 0xA1, 0xA2, 0xA3, 0xD1, 0xD2


def trace_id(n: int) -> str:
    return f"{n:08x}" + "7ace" * 6


def span_id(n: int, role: int) -> str:
    return f"{n:08x}{role:08x}"


@dataclass(frozen=True)
class TwoHop:
    """Locust → api "/orders" → downstream "/reservations", as the parts of one trace."""

    n: int
    expectation: ExpectationFact | None
    api: TransactionFact | None
    downstream: TransactionFact | None
    extra: tuple[TransactionFact, ...] = ()
    errors: tuple[ErrorFact, ...] = ()
    profiles: tuple[ProfileFact, ...] = ()

    @property
    def trace_id(self) -> str:
        return trace_id(self.n)

    @property
    def dsc(self) -> dict[str, Any]:
        return head_dsc(self.n)

    def bundle(self) -> TraceBundle:
        transactions = [tx for tx in (self.api, self.downstream, *self.extra) if tx is not None]
        return TraceBundle(
            trace_id=self.trace_id,
            expectation=self.expectation,
            transactions=transactions,
            errors=list(self.errors),
            profiles=list(self.profiles),
        )


def head_dsc(n: int, **changes: str) -> dict[str, Any]:
    """The DSC the api freezes at its first outgoing call, values as strings like the SDK sends."""
    dsc = {
        "trace_id": trace_id(n),
        "public_key": API_KEY,
        "release": "api@1.0.0",
        "environment": "sandbox",
        "sample_rate": "1.0",
        "sample_rand": "0.421337",
        "sampled": "true",
    }
    return dsc | changes


def healthy_trace(n: int = 1, *, scenario: str = "orders", started_at: float = T0) -> TwoHop:
    t = started_at
    api_tx = TransactionFact(
        envelope_id=f"env-api-{n}",
        event_id=f"{n:08x}" + "a" * 24,
        project="api",
        trace_id=trace_id(n),
        span_id=span_id(n, API_TX),
        parent_span_id=span_id(n, LOCUST_SPAN),  # Locust's span: the caller, never reported
        name="/orders",
        op="http.server",
        status="ok",
        start=t + 0.002,
        end=t + 0.200,
        release="api@1.0.0",
        environment="sandbox",
        dsc=head_dsc(n),
        received_at=t + 1.2,
        spans=(
            span(n, API_DB, parent=API_TX, op="db", description="INSERT INTO orders", start=t + 0.010, end=t + 0.030),
            span(
                n,
                CALL,
                parent=API_TX,
                op="http.client",
                description="POST http://downstream:8001/reservations",
                start=t + 0.050,
                end=t + 0.150,
            ),
        ),
    )
    downstream_tx = TransactionFact(
        envelope_id=f"env-downstream-{n}",
        event_id=f"{n:08x}" + "d" * 24,
        project="downstream",
        trace_id=trace_id(n),
        span_id=span_id(n, DOWNSTREAM_TX),
        parent_span_id=span_id(n, CALL),
        name="/reservations",
        op="http.server",
        status="ok",
        start=t + 0.060,
        end=t + 0.140,
        release="downstream@1.0.0",
        environment="sandbox",
        dsc=head_dsc(n),  # copied unchanged from the api's baggage
        received_at=t + 1.0,  # the downstream envelope usually arrives first
        spans=(
            span(
                n,
                DOWNSTREAM_DB,
                parent=DOWNSTREAM_TX,
                op="db",
                description="UPDATE stock",
                start=t + 0.07,
                end=t + 0.09,
            ),
        ),
    )
    expectation = ExpectationFact(
        trace_id=trace_id(n),
        scenario=scenario,
        started_at=t,
        sampled=True,
        sample_rand=0.421337,
        sample_rate=1.0,
        expect_services=("api", "downstream"),
        ended_at=t + 0.205,
    )
    return TwoHop(n=n, expectation=expectation, api=api_tx, downstream=downstream_tx)


def span(n: int, role: int, *, parent: int, op: str, description: str, start: float, end: float) -> SpanFact:
    return SpanFact(span_id(n, role), span_id(n, parent), op, description, start, end, status="ok")


def error_event(trace: TwoHop, *, project: str = "downstream", role: int = DOWNSTREAM_TX) -> ErrorFact:
    """An error captured by `project` while span `role` of the trace was active."""
    return ErrorFact(
        envelope_id=f"env-error-{project}-{trace.n}",
        event_id=f"{trace.n:08x}" + "e" * 24,
        project=project,
        trace_id=trace.trace_id,
        span_id=span_id(trace.n, role),
        exception_type="OutOfStock",
        message="out of stock",
        transaction="/reservations",
        dsc=trace.dsc,
        received_at=T0 + 1.1,
    )


def client_report(
    project: str, reason: str, *, category: str = "transaction", quantity: int = 1, at: float = T0 + 30
) -> ClientReportFact:
    return ClientReportFact(project=project, received_at=at, reason=reason, category=category, quantity=quantity)


def refusal(
    project_id: int,
    reason: str,
    *,
    status: int = 503,
    at: float = T0 + 1,
    item_types: tuple[str, ...] | None = ("transaction",),
) -> RefusalFact:
    return RefusalFact(
        received_at=at, status=status, reason=reason, project_id=project_id, injected=True, item_types=item_types
    )


def with_span(tx: TransactionFact | None, role_span_id: str, **changes: Any) -> TransactionFact:
    """`tx` with one of its spans changed."""
    assert tx is not None
    return replace(tx, spans=tuple(replace(s, **changes) if s.span_id == role_span_id else s for s in tx.spans))


def run(
    *bundles: TraceBundle,
    client_reports: Iterable[ClientReportFact] = (),
    refusals: Iterable[RefusalFact] = (),
    config: VerifyConfig = CONFIG,
) -> Report:
    return verify(list(bundles), client_reports=list(client_reports), refusals=list(refusals), config=config)


def kinds(report: Report, trace_id: str) -> list[tuple[str, str]]:
    """(check, kind) of every finding about one trace, attributed or not."""
    return [(f.check, f.kind) for f in report.findings if f.trace_id == trace_id]
