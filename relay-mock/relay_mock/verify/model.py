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
    """A child span inside a transaction (or a streamed segment).

    A plain slotted dataclass: one is built per span of every trace the verifier reads, and a
    frozen one (or a validated model) would cost a second per 100,000 envelopes."""

    span_id: str
    parent_span_id: str | None
    op: str | None
    description: str | None
    start: float | None
    end: float | None
    status: str | None = None
    # The HTTP status the response carried (`http.response.status_code` in the span's data);
    # None when no response came back, or the span is not an HTTP call.
    http_status: int | None = None
    # A span that came over OTLP: its resource's attributes (service.name, ...); None otherwise.
    otlp_resource: dict[str, Any] | None = None


@dataclass(slots=True)
class TransactionFact:
    """A service's entry point: a transaction, or the segment span of a streamed (span v2) trace."""

    envelope_id: str
    event_id: str | None
    project: str  # the relay-mock project name, which is the service
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
    kind: str = "transaction"  # or "segment": a streamed segment span and the spans under it
    sdk: str | None = None  # the SDK that sent it, as its X-Sentry-Auth names it: "sentry.python/3.0.0"
    otlp_resource: dict[str, Any] | None = None  # a segment span that came over OTLP: its resource
    # How the service's spans arrived: None for a Sentry SDK's envelope, "otlp" for spans an
    # OpenTelemetry SDK exported over OTLP (the span's `sentry.ingest` attribute says so).
    ingest: str | None = None


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
    level: str | None = None
    timestamp: float | None = None


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
    # The types of the refused envelope's items ("transaction", "event", "span"...), or None
    # when its body could not be parsed: then the refusal cannot say what it lost.
    item_types: tuple[str, ...] | None = None


@dataclass(frozen=True)
class WitnessFact:
    """What a called service said it received, relayed back to the caller at the wire (the API
    takes it as `models.Witness`; this is the verifier's record of it).

    Each service answers with the `sentry-trace` header it got (the `x-sandbox-received-trace`
    response header); api returns those to Locust, which records them with the expectation.
    `received` is that header's value: "<trace_id>-<parent span id>[-<sampled>]", "" when the
    request carried none, and None when the call got no answer at all (it never arrived).
    """

    received: str | None
    service: str | None = None  # who said so, when known
    # Whether that service's SDK kept its own transaction (its sampling decision), when known.
    sampled: bool | None = None
    # The W3C `traceparent` header the service received ("" when none; None when not told).
    traceparent: str | None = None
    # The trace id of the service's own entry span for this request: the trace it continued or
    # started (None when not told, or it made no span).
    trace_id: str | None = None

    @property
    def traceparent_trace_id(self) -> str | None:
        """The trace id of the received `traceparent` ("00-<trace_id>-<parent>-<flags>")."""
        fields = (self.traceparent or "").strip().split("-")
        return fields[1] or None if len(fields) >= 3 else None

    @property
    def parts(self) -> tuple[str | None, str | None, bool | None]:
        """(trace_id, parent_span_id, sampled) of what was received."""
        if not self.received:
            return None, None, None
        fields = self.received.strip().split("-")
        trace_id = fields[0] if fields else None
        parent = fields[1] if len(fields) > 1 else None
        sampled = {"1": True, "0": False}.get(fields[2]) if len(fields) > 2 else None
        return trace_id or None, parent or None, sampled


@dataclass(slots=True)
class ExpectationFact:
    """A trace Locust (or a test) started: the ground truth of what should have arrived (the API
    takes and lists it as `models.Expectation`; this is the verifier's record of it)."""

    trace_id: str
    scenario: str  # e.g. "orders", "business_error", "downstream_error", "slow_downstream", "test_endpoints"
    started_at: float
    sampled: bool
    sample_rand: float | None = None
    sample_rate: float | None = None
    # The services whose transactions must arrive when the trace is sampled, the head (the
    # one the caller called) first.
    expect_services: tuple[str, ...] = ()
    # The services that must report an error event carrying this trace id.
    expect_errors_from: tuple[str, ...] = ()
    # The sentry-* baggage the caller sent (without the prefix), when it sent any.
    baggage: dict[str, str] | None = None
    status_code: int | None = None  # what the caller saw
    outcome: str | None = None  # free text recorded by the caller, e.g. "ok", "409 out of stock"
    ended_at: float | None = None  # when the caller got its answer
    # What the called services said they received, one per call that got an answer; None when
    # the caller recorded no witnesses (then the verifier relies on the envelopes alone).
    witnesses: tuple[WitnessFact, ...] | None = None
    # How the caller sent the trace context: "sentry" (sentry-trace + baggage), "w3c"
    # (traceparent + tracestate only) or "both".
    propagation: str = "sentry"


@dataclass
class TraceBundle:
    """Everything known about one trace id."""

    trace_id: str
    expectation: ExpectationFact | None = None
    transactions: list[TransactionFact] = field(default_factory=list)
    errors: list[ErrorFact] = field(default_factory=list)
    profiles: list[ProfileFact] = field(default_factory=list)


@dataclass(frozen=True)
class RequiredOps:
    """A topology rule: transactions of `service` (named `transaction`, with a status in
    `status`; empty means any) hold a span whose op starts with `op_prefix`."""

    service: str
    op_prefix: str
    transaction: str | None = None
    status: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerifyConfig:
    """How to verify. Nothing here names a service of the sandbox: project names, keys and ids
    come from relay-mock's settings, and topology rules from an expectations file (see
    `relay_mock.verify.topology`)."""

    # The span ops of outgoing calls: each that reached a service owes one child transaction.
    call_ops: tuple[str, ...] = ("http.client",)
    # Public keys and relay-mock project ids per project name (relay-mock's projects).
    public_keys: dict[str, str] = field(default_factory=dict)
    project_ids: dict[str, int] = field(default_factory=dict)
    # How far a child may stick out of the call that caused it (clocks differ a little).
    clock_skew_tolerance_s: float = 0.1
    ui_base_url: str = "http://127.0.0.1:9000"
    # Which SDK drops and relay refusals may explain a missing item: those received from
    # `attribution_before_s` before the trace started (slack for clocks and for a drop recorded
    # just before the expectation was written) up to `flush_delay_s` after it ended (sentry-python
    # sends its client reports at most 60 s after the drop, or when flushed).
    attribution_before_s: float = 5.0
    flush_delay_s: float = 65.0
    # Drops reported after this moment (the window's end, UNTIL) explain nothing.
    until: float | None = None
    # Services every sampled expected trace of a scenario must cross ("*": every scenario).
    must_cross: dict[str, tuple[str, ...]] = field(default_factory=dict)
    required_ops: tuple[RequiredOps, ...] = ()


@dataclass(slots=True)
class FormatBreak:
    """One call (or the head's request) whose callee did not continue the caller's context, as
    `relay_mock.verify.propagation` found it."""

    span_id: str | None  # the call span; None at the head (the external caller's request)
    caller: str  # the calling service, or "the caller" at the head
    callee: str  # the called service
    call: str  # what the call was: its description, or "the request"
    sent: tuple[str, ...]  # the headers the caller sent
    other_trace: str | None  # the trace the callee's spans went to, when known
    root: TransactionFact | None  # the callee's root span in that trace, when it arrived
    evidence: tuple[str, ...]
    cause: str | None = None  # UNKNOWN or AMBIGUOUS when the evidence does not settle it
    candidates: tuple[str, ...] = ()  # the other traces that could be it (AMBIGUOUS)
    caller_items: tuple[TransactionFact, ...] = ()
