"""What the verifier reads: facts about stored items, grouped per trace.

`relay_mock.verify.collect` builds these from the store; tests build them by hand.
Timestamps are seconds since the epoch (floats).

The facts built once per span, item or expected trace are plain slotted dataclasses that
nothing mutates: a frozen dataclass sets every field through object.__setattr__ and takes
3.5 times as long to build, which is a second per 100,000 envelopes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class SpanFact:
    """A child span inside a transaction."""

    span_id: str
    parent_span_id: str | None
    op: str | None
    description: str | None
    start: float | None
    end: float | None
    status: str | None = None


@dataclass(slots=True)
class TransactionFact:
    envelope_id: str
    event_id: str | None
    project: str  # the relay-mock project name, which is the service: "api", "downstream"
    trace_id: str | None
    span_id: str | None  # the transaction's own (root) span
    parent_span_id: str | None
    name: str | None  # e.g. "/orders"
    op: str | None  # e.g. "http.server"
    status: str | None  # Sentry span status, e.g. "ok", "internal_error"
    start: float | None
    end: float | None
    release: str | None
    environment: str | None
    dsc: dict[str, Any] | None  # the envelope header's `trace` (dynamic sampling context)
    received_at: float
    spans: tuple[SpanFact, ...] = ()


@dataclass(slots=True)
class ErrorFact:
    envelope_id: str
    event_id: str | None
    project: str
    trace_id: str | None  # contexts.trace.trace_id, None when the event has none
    span_id: str | None  # contexts.trace.span_id: the span active when it was captured
    exception_type: str | None
    message: str | None
    transaction: str | None
    dsc: dict[str, Any] | None
    received_at: float


@dataclass(slots=True)
class ProfileFact:
    """A profile item that names its trace (transaction-based profiles do; chunks do not)."""

    envelope_id: str
    project: str
    trace_id: str | None
    received_at: float


@dataclass(frozen=True)
class ClientReportFact:
    """One `discarded_events` entry of an SDK's client report."""

    project: str
    received_at: float
    reason: str  # queue_overflow, ratelimit_backoff, network_error, send_error, sample_rate, before_send, ...
    category: str  # transaction, error, span, profile_chunk, ...
    quantity: int


@dataclass(frozen=True)
class RefusalFact:
    """A request relay-mock refused (an injected fault, a size limit, bad auth...)."""

    received_at: float
    status: int
    reason: str
    project_id: int | None
    injected: bool


@dataclass(slots=True)
class Expectation:
    """A trace Locust (or a test) started: the ground truth of what should have arrived."""

    trace_id: str
    scenario: str  # e.g. "orders", "business_error", "downstream_error", "slow_downstream", "test_endpoints"
    started_at: float
    sampled: bool
    sample_rand: float | None = None
    sample_rate: float | None = None
    # The services whose transactions must arrive when the trace is sampled.
    expect_services: tuple[str, ...] = ("api", "downstream")
    # The services that must report an error event carrying this trace id.
    expect_errors_from: tuple[str, ...] = ()
    # The sentry-* baggage the caller sent (without the prefix), when it sent any.
    baggage: dict[str, str] | None = None
    status_code: int | None = None  # what the caller saw
    outcome: str | None = None  # free text recorded by the caller, e.g. "ok", "409 out of stock"


@dataclass
class TraceBundle:
    """Everything known about one trace id."""

    trace_id: str
    expectation: Expectation | None = None
    transactions: list[TransactionFact] = field(default_factory=list)
    errors: list[ErrorFact] = field(default_factory=list)
    profiles: list[ProfileFact] = field(default_factory=list)


@dataclass(frozen=True)
class VerifyConfig:
    # Which project's transactions call which, and how to recognise the call.
    head_service: str = "api"
    downstream_service: str = "downstream"
    downstream_url_marker: str = "downstream:8001"  # found in the http.client span's description
    # Public keys per project name, to check that the DSC names the head service.
    public_keys: dict[str, str] = field(default_factory=dict)
    clock_skew_tolerance_s: float = 0.1
    # Transactions with these names and one of these statuses must hold a span whose op starts
    # with "db": both sides of the hop write to Postgres when they succeed. An empty names tuple
    # means every transaction.
    db_span_required_names: tuple[str, ...] = ("/orders", "/reservations")
    db_span_required_status: tuple[str, ...] = ("ok",)
    ui_base_url: str = "http://127.0.0.1:9000"
    # relay-mock project ids per project name, to match refused requests (RefusalFact.project_id).
    project_ids: dict[str, int] = field(default_factory=lambda: {"api": 1, "downstream": 2})
    # Which SDK drops and relay refusals may explain a missing item: those received from
    # `attribution_before_s` before the trace started (slack for clocks and for a drop recorded just
    # before the expectation was written) up to `attribution_after_s` after it. None means no upper
    # bound: the SDK sends client reports lazily, so the report of a drop may come much later.
    attribution_before_s: float = 5.0
    attribution_after_s: float | None = None
