"""What the inspection API answers, as pydantic models: the shapes `relay_mock.client` parses.

They describe the JSON the routes under `/inspect/` send (store/ builds the envelopes and
errors as these models; traces.py, inspection/*.py the rest). Every model allows extra
fields, so a field added on the server side never breaks a client built against an older
description; field names are the JSON keys, so `model_dump()` gives back the JSON as it came.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, Required

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from typing_extensions import TypedDict  # pydantic reads typing's TypedDict only from Python 3.12

# The verifier's records are the report's wire shape: plain dataclasses on the verifier's hot path.
from relay_mock.findings import Finding, TraceVerdict


class Model(BaseModel):
    model_config = ConfigDict(extra="allow")


def json_integer(value: Any) -> Any:
    """An integer in a request body: JSON has one number type, so 404.0 is an integer too (JSON
    Schema says so); the bodies are validated strictly otherwise (inspection/bodies.py). Run by
    the fields' validators, not their type, so the JSON schema's bounds stay where they are."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


class ApiError(Model):
    """Every error the inspection API answers: what went wrong and why."""

    detail: str
    causes: list[str] = Field(default_factory=list)


# -- envelopes -----------------------------------------------------------------------------


class ProjectRef(Model):
    id: int | None
    name: str | None


class RequestInfo(Model):
    """How the envelope arrived: endpoint, auth form, SDK, encoding and sizes."""

    endpoint: str | None = None
    path: str | None = None
    public_key: str | None = None
    auth: str | None = None
    sdk_client: str | None = None
    content_encoding: str | None = None
    compressed_size: int | None = None
    raw_size: int | None = None
    user_agent: str | None = None
    remote_addr: str | None = None


class Item(Model):
    """One envelope item: its index entry and, when payloads were asked for, its header and payload
    (JSON when it parses, text when it is UTF-8, else `{"base64": ...}`)."""

    type: str | None = None
    title: str | None = None
    name: str | None = None
    op: str | None = None
    status: str | None = None
    level: str | None = None
    event_id: str | None = None
    trace_id: str | None = None
    release: str | None = None
    environment: str | None = None
    server_name: str | None = None
    problem: str | None = None
    header: dict[str, Any] | None = None
    payload: Any = None


class Envelope(Model):
    id: str
    seq: int
    received_at: str  # ISO 8601, UTC
    received_ts: float  # the same instant in epoch seconds
    project: ProjectRef
    event_id: str | None = None
    trace_id: str | None = None
    header: dict[str, Any] = Field(default_factory=dict)
    item_types: list[str] = Field(default_factory=list)
    request: RequestInfo
    items: list[Item] = Field(default_factory=list)
    forward: ForwardState | None = None  # the detail view only, when the project is forwarded


class EnvelopePage(Model):
    envelopes: list[Envelope]
    next_cursor: int | None = None


class LiveEnvelope(Envelope):
    """The data of one `/inspect/stream` event: an envelope as `/inspect/envelopes?payloads=false`
    lists it (relay_mock/live.py), and `lagged: true` when this subscriber fell behind and older
    envelopes were skipped (absent otherwise)."""

    lagged: bool = False


class Readiness(Model):
    """`GET /api/relay/healthcheck/ready/` (and `/health`): relay-mock is up, and what it stores."""

    is_healthy: bool
    version: str
    envelopes: int
    bytes: int


class WaitResult(Model):
    satisfied: bool
    count: int
    wanted: int


# -- traces --------------------------------------------------------------------------------


class TraceError(Model):
    """An error event as the trace view shows it."""

    event_id: str | None = None
    envelope_id: str
    service: str | None = None
    span_id: str | None = None
    level: str | None = None
    type: str | None = None
    value: str | None = None
    transaction: str | None = None
    timestamp: float | None = None


class BrokenLink(Model):
    """A link the verifier found broken (a call nobody answered, a transaction on the wrong parent);
    `kind` and the node's fields are null when the finding names no node of the trace."""

    service: str | None = None
    kind: str | None = None
    span_id: str | None = None
    parent_span_id: str | None = None
    description: str | None = None
    envelope_id: str | None = None
    reason: str | None = None
    verdict: str | None = None  # failed | unverified
    attributed_to: str | None = None
    # The other trace of a split (a propagation-format break): where the callee's spans went,
    # or, seen from that trace, the caller's trace.
    other_trace_id: str | None = None


class TraceNode(Model):
    """A transaction (or a streamed segment span) or a span, with its children."""

    kind: str  # transaction | span
    service: str
    span_id: str | None = None
    parent_span_id: str | None = None
    op: str | None = None
    description: str | None = None
    start: float | None = None
    end: float | None = None
    offset_ms: float | None = None
    duration_ms: float | None = None
    status: str | None = None
    envelope_id: str
    event_id: str | None = None
    release: str | None = None
    sdk: str | None = None  # the SDK that sent it: "sentry.python/3.0.0"
    broken: str | None = None
    external_parent: bool = False
    missing_child: str | None = None
    # "otlp" for a span that came over OTLP/HTTP, with its resource's attributes (service.name, ...)
    ingest: str | None = None
    resource: dict[str, Any] | None = None
    errors: list[TraceError] = Field(default_factory=list)
    children: list[TraceNode] = Field(default_factory=list)

    def walk(self) -> list[TraceNode]:
        """This node and every node under it, depth first."""
        return [self, *(node for child in self.children for node in child.walk())]


class TraceVerification(Model):
    """The verifier's verdict on one trace and its findings about it."""

    verdict: Literal["verified", "unverified", "failed"] | None = None
    causes: list[str] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)


class Trace(Model):
    """One trace as the UI shows it: every service's transactions and spans as a tree."""

    trace_id: str
    services: list[str]
    transactions: int
    errors: list[TraceError]
    error_count: int
    start: float | None = None
    end: float | None = None
    duration_ms: float | None = None
    complete: bool
    broken_links: list[BrokenLink]
    dsc: list[dict[str, Any]]
    dsc_consistent: bool
    roots: list[TraceNode]
    verification: TraceVerification | None = None
    # Each service's SDKs, name/version as the envelopes named them (a hop between majors shows).
    sdks: dict[str, list[str]] = Field(default_factory=dict)

    def nodes(self) -> list[TraceNode]:
        return [node for root in self.roots for node in root.walk()]


class TraceSummary(Model):
    trace_id: str
    services: list[str]
    transactions: int
    errors: int
    start: float | None = None
    duration_ms: float | None = None
    root: str | None = None
    complete: bool
    broken_links: int
    dsc_consistent: bool
    verdict: Literal["verified", "unverified", "failed"] | None = None


class TracePage(Model):
    traces: list[TraceSummary]
    next_cursor: int | None = None


# -- errors --------------------------------------------------------------------------------


class ErrorSummary(Model):
    event_id: str | None = None
    envelope_id: str
    project: str | None = None
    received_at: str
    timestamp: float | None = None
    level: str | None = None
    type: str | None = None
    value: str | None = None
    message: str | None = None
    transaction: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    release: str | None = None
    environment: str | None = None
    server_name: str | None = None
    # An SDK may send tags as an object or as [key, value] pairs.
    tags: dict[str, Any] | list[Any] = Field(default_factory=dict)


class ErrorDetail(ErrorSummary):
    """One error event in full; `event` is the payload as the SDK sent it."""

    exceptions: list[Any] = Field(default_factory=list)
    breadcrumbs: list[Any] = Field(default_factory=list)
    contexts: dict[str, Any] = Field(default_factory=dict)
    request: dict[str, Any] | None = None
    sdk: Any = None
    event: dict[str, Any] = Field(default_factory=dict)


class ErrorPage(Model):
    errors: list[ErrorSummary]
    next_cursor: int | None = None


# -- statistics and refusals ---------------------------------------------------------------


class ProjectStats(Model):
    project_id: int | None = None
    envelopes: int
    raw_bytes: int | None = None
    compressed_bytes: int | None = None


class RefusedStats(Model):
    total: int
    injected: int
    by_reason: dict[str, int]
    by_status: dict[str, int]


class Discarded(Model):
    """One line of the SDKs' client reports: how many items of a category they dropped, and why."""

    reason: str
    category: str
    quantity: int


class ClientReportStats(Model):
    total: int
    by_reason: dict[str, int]
    by_category: dict[str, int]
    by_project: dict[str, list[Discarded]]


class Retention(Model):
    max_envelopes: int
    max_bytes: int


class EnvelopeTotals(Model):
    stored: int
    bytes: int
    received: int
    evicted: int
    evicted_bytes: int
    commits: int
    mean_commit_group: float
    retention: Retention


class RelayVerdictCounts(Model):
    """One project's items by the verdict of Relay's view (store/relay_views.verdict_counts)."""

    ok: int
    repaired: int  # stored with normalization errors
    rejected: int
    failed: int  # Relay's code could not compute it
    normalization_errors: int
    scrubbed_values: int
    items_with_leaks: int


class RelayViewStats(Model):
    """Relay's view (relay_view/): verdicts per project, envelopes the worker has yet to look at,
    items it failed on."""

    by_project: dict[str, RelayVerdictCounts]
    pending_envelopes: int
    failed: int


class Stats(Model):
    items_by_type: dict[str, int]
    by_project: dict[str, ProjectStats]
    by_service: dict[str, dict[str, int]]
    content_encodings: dict[str, int]
    refused: RefusedStats
    client_reports: ClientReportStats
    items_with_problems: int
    envelopes: EnvelopeTotals
    relay: RelayViewStats | None = None


class Refusal(Model):
    """A request relay-mock refused (a fault rule, a size limit, bad auth...)."""

    id: int
    received_at: str
    status: int
    reason: str
    detail: str
    injected: bool
    project_id: int | None = None
    public_key: str | None = None
    path: str | None = None
    size: int | None = None
    user_agent: str | None = None
    remote_addr: str | None = None


# -- faults, expectations, projects ----------------------------------------------------------


class FaultRule(Model):
    id: str
    action: Literal["rate_limit", "status", "latency", "drop"]
    status: int
    categories: list[str] = Field(default_factory=list)
    retry_after: int
    latency_ms: int
    project: int | None = None
    remaining: int | None = None
    fraction: float | None = None
    expires_at: str | None = None
    created_at: str
    hits: int
    description: str


class Expectation(Model):
    """A trace a test or a load generator started: the verifier's ground truth for it.

    A field omitted (or null) takes its default below; started_at: the time it is recorded.
    `expect_services` left out names no services: the verifier then checks the trace against what
    arrived, with no head or hop it must have (the server stores `[]`)."""

    trace_id: str = Field(pattern=r"^[0-9a-f]{32}$")
    scenario: str = Field(min_length=1)
    started_at: float | None = None
    sampled: bool | None = True
    sample_rand: float | None = None
    sample_rate: float | None = None
    expect_services: list[str] | None = Field(default=[])
    expect_errors_from: list[str] | None = Field(default=[])
    baggage: dict[str, str] | None = None
    status_code: int | None = Field(None, ge=0, le=999)
    outcome: str | None = None
    ended_at: float | None = None
    witnesses: list[Witness] | None = None
    # How the caller sent the trace context: sentry (sentry-trace + baggage), w3c (traceparent +
    # tracestate only) or both.
    propagation: Literal["sentry", "w3c", "both"] | None = "sentry"

    @field_validator("status_code", mode="before")
    @classmethod
    def _integral(cls, value: Any) -> Any:
        return json_integer(value)

    @model_validator(mode="before")
    @classmethod
    def _null_is_omitted(cls, data: Any) -> Any:
        """A null where a field has a default is that default (as a caller leaving it out)."""
        if not isinstance(data, dict):
            return data
        fields = cls.model_fields
        return {k: v for k, v in data.items() if v is not None or k not in fields or fields[k].default is None}


class Witness(Model):
    """What a called service said it received: its `sentry-trace` header, and whether it sampled;
    the W3C `traceparent` it received and the trace id of its own entry span, when it says."""

    received: str | None = None
    service: str | None = None
    sampled: bool | None = None
    traceparent: str | None = None
    trace_id: str | None = None


class Project(Model):
    """A project relay-mock accepts envelopes for; `dsn` uses relay-mock's RELAY_PUBLIC_URL."""

    id: int
    name: str
    public_key: str
    dsn: str


# -- the verifier --------------------------------------------------------------------------


class VerifyReport(Model):
    ok: bool
    traces_checked: int
    expected_traces: int
    sampled_expected: int
    complete: int
    failures: int
    attributed_losses: int
    failed_traces: int
    checks: dict[str, dict[str, int]]
    scenarios: dict[str, dict[str, int]]
    attributions: dict[str, int]
    # The verifier's own records (findings.py), validated and dumped by pydantic as they are:
    # one declaration of a finding's fields for the verifier, the API and the client.
    findings: list[Finding]
    trace_ids: list[str] = Field(default_factory=list)
    verdicts: dict[str, int] = Field(default_factory=dict)  # {"verified": n, "unverified": n, "failed": n}
    unverified_causes: dict[str, int] = Field(default_factory=dict)
    traces: list[TraceVerdict] = Field(default_factory=list)  # one per trace checked
    notes: int = 0  # findings that owe nothing (calls that never reached a service)

    @property
    def failed_findings(self) -> list[Finding]:
        return [f for f in self.findings if f.is_failure]


class Verdict(Model):
    """`GET /inspect/verify`: the report, and how long the verifier waited for traces still arriving."""

    ok: bool
    report: VerifyReport
    waited_s: float
    still_pending: int

    def explain(self) -> str:
        """The verdict in words, one finding a line (failures first): an assertion's message."""
        report = self.report
        lines = [
            f"{report.failures} failure(s) and {report.attributed_losses} loss(es) explained by reported drops"
            f" in {report.traces_checked} trace(s)"
            + (
                f"; {self.still_pending} expected trace(s) still incomplete after {self.waited_s} s"
                if self.still_pending
                else ""
            )
        ]
        for finding in sorted(report.findings, key=lambda f: not f.is_failure):
            why = "FAILED" if finding.is_failure else "note" if finding.note else f"lost ({finding.attributed_to})"
            lines.append(
                f"  {why} {finding.check}/{finding.kind} trace {finding.trace_id}: {finding.message}"
                f" (expected {finding.expected}, observed {finding.observed}) {finding.ui_url}"
            )
        return "\n".join(lines)


def as_json(model: BaseModel) -> dict[str, Any]:
    """A model as the inspection API sends it. Fields its builder left unset stay out: an
    envelope item listed without its payload has no `header` or `payload` key at all."""
    return model.model_dump(mode="json", exclude_unset=True)


# -- the rest of the inspection API: list wrappers, telemetry, Relay's view, request bodies ---


class RefusalList(Model):
    refusals: list[Refusal]


class ProjectList(Model):
    projects: list[Project]


class FaultRuleList(Model):
    rules: list[FaultRule]


class ExpectationList(Model):
    expectations: list[Expectation]


class Deleted(Model):
    deleted: bool


class Recorded(Model):
    """How many expectations a POST recorded."""

    recorded: int


class LogRecord(Model):
    """A Sentry log; `id` is also a cursor. `attributes` are the plain values (types dropped)."""

    id: str
    kind: Literal["log"]
    timestamp: float | None = None
    received_at: float | str | None = None
    service: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    envelope_id: str
    level: str | None = None
    body: str | None = None
    template: str | None = None
    attributes: dict[str, Any] | None = None


class LogPage(Model):
    logs: list[LogRecord]
    next_cursor: str | None = None


class MetricPoint(Model):
    """One raw trace-metric record, as `/inspect/metrics` pages them."""

    id: str
    kind: Literal["metric"]
    timestamp: float | None = None
    received_at: float | str | None = None
    service: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    envelope_id: str
    name: str | None = None
    type: str | None = None  # counter | gauge | distribution
    value: float | None = None
    unit: str | None = None
    attributes: dict[str, Any] | None = None


class SeriesPoint(Model):
    t: float
    v: float
    trace_id: str | None = None
    span_id: str | None = None


class Bucket(Model):
    """The aggregates of one metric over one time bucket starting at `start`: a bucket exists once
    a point fell in it (store/telemetry.py), so every aggregate has a value."""

    start: float
    count: int
    sum: float
    min: float
    max: float
    last: float
    avg: float


class MetricSeries(Model):
    name: str | None = None
    type: str | None = None
    unit: str | None = None
    service: str | None = None
    count: int
    points: list[SeriesPoint]
    truncated: bool
    buckets: list[Bucket]


class MetricPage(Model):
    points: list[MetricPoint]
    next_cursor: str | None = None
    series: list[MetricSeries] | None = None  # absent with series=false


class Remark(Model):
    """A rule's mark on a value in Relay's `_meta`: which rule, and what it did."""

    rule: str
    kind: str | None  # annotated | removed | substituted | masked | pseudonymized | encrypted


class Change(Model):
    """A value Relay changed (relay_view/compute.changes): where, by which rules, at which stage."""

    path: str  # dotted, from the event's root
    rules: list[str]
    remarks: list[Remark]
    errors: list[str]
    original_length: int | None = None
    original: Any = None
    stage: Literal["normalization", "scrubbing"]


class Leak(Model):
    """A secret still in what Sentry would store (relay_view/leaks.py): shown by a preview only."""

    path: str
    kind: str
    reason: str
    preview: str
    length: int
    fingerprint: str | None = None  # a hash of the value, to match the same secret elsewhere


class Suggestion(Model):
    """A selector Relay proposes for a value still stored, for a project's own scrubbing rules."""

    path: str
    value: Any = None


class ItemView(Model):
    """What Sentry would store for one item: Relay's normalization and scrubbing, and their findings."""

    type: str | None = None
    project: ProjectRef
    verdict: Literal["ok", "repaired", "rejected", "failed"]
    detail: str | None = None
    normalized: dict[str, Any] | None = None
    stored: dict[str, Any] | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    errors: list[Any] = Field(default_factory=list)
    changes: list[Change] = Field(default_factory=list)
    leaks: list[Leak] = Field(default_factory=list)
    suggestions: list[Suggestion] = Field(default_factory=list)
    settings: dict[str, Any] | None = None
    # Whether the background worker had stored its verdict (else computed on this read), and how
    # long Relay's code took; absent for an item whose computation failed.
    computed_in_background: bool | None = None
    duration_ms: float | None = None


class LeakedItem(Model):
    envelope_id: str
    item: int
    type: str | None = None
    event_id: str | None = None
    name: str | None = None
    project: ProjectRef
    received_at: str
    leaks: list[Leak]


class LeakReport(Model):
    items: list[LeakedItem]
    leaks: int
    covers: str | None = None  # what Relay's view covers (events, transactions, feedback)
    pending_envelopes: int


class _RuleSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    categories: list[Annotated[str, Field(min_length=1)]] | None = Field(
        None, description="only envelopes with items of these categories (all when absent)"
    )
    project: int | None = Field(None, ge=0, le=2**63 - 1, description="only this project id")
    count: int | None = Field(None, ge=1, le=10_000_000, description="how many requests it applies to")
    remaining: int | None = Field(None, ge=1, le=10_000_000, description="the same as count")
    fraction: float | None = Field(None, gt=0, le=1, description="the share of requests it applies to")
    duration_s: float | None = Field(None, gt=0, le=86_400, description="how long it stays")
    retry_after: int = Field(60, ge=1, le=86_400)
    latency_ms: int = Field(0, ge=0, le=120_000)

    @field_validator(
        "project", "count", "remaining", "retry_after", "latency_ms", "status", mode="before", check_fields=False
    )
    @classmethod
    def _integral(cls, value: Any) -> Any:
        return json_integer(value)

    @model_validator(mode="before")
    @classmethod
    def _remaining_is_count(cls, data: Any) -> Any:
        """`count` and `remaining` are two names of one field: `remaining` is read when `count` is
        absent or null (and then checked as `count`)."""
        if isinstance(data, dict) and data.get("count") is None and "remaining" in data:
            data = {**data, "count": data["remaining"]}
            del data["remaining"]
        return data


class RateLimitSpec(_RuleSpec):
    """Answer 429 with Retry-After and X-Sentry-Rate-Limits, as Sentry does."""

    action: Literal["rate_limit"]
    status: int = Field(429, ge=0, le=599)


class StatusSpec(_RuleSpec):
    """Answer this status instead of storing."""

    action: Literal["status"]
    status: int = Field(503, ge=400, le=599)


class LatencySpec(_RuleSpec):
    """Store, but answer `latency_ms` late."""

    action: Literal["latency"]
    status: int = Field(200, ge=0, le=599)
    latency_ms: int = Field(ge=1, le=120_000)


class DropSpec(_RuleSpec):
    """Close the connection without an answer."""

    action: Literal["drop"]
    status: int = Field(0, ge=0, le=599)


# A fault rule to add (`POST /inspect/faults`); relay_mock/faults.py says what each action does.
FaultRuleSpec = Annotated[RateLimitSpec | StatusSpec | LatencySpec | DropSpec, Field(discriminator="action")]


NonEmpty = Annotated[str, Field(min_length=1)]


class RequiredOpsRule(TypedDict, total=False):
    """Spans a transaction must hold: one whose op starts with `op_prefix`."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    service: Required[NonEmpty]
    op_prefix: Required[NonEmpty]
    transaction: str | None
    status: NonEmpty | list[NonEmpty]


class Topology(TypedDict, total=False):
    """An expectations file's content (relay_mock/verify/topology.py), every key optional: what must
    hold beyond what the data shows. A TypedDict: a key may be left out, but not sent as null."""

    __pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[misc]

    call_ops: list[NonEmpty]
    skew_tolerance_s: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    flush_delay_s: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    must_cross: dict[str, list[NonEmpty]]
    required_ops: list[RequiredOpsRule]


MAX_EXPECTATIONS = 10_000  # per request


class ExpectationBatch(BaseModel):
    expectations: list[Expectation] = Field(max_length=MAX_EXPECTATIONS)


# `POST /inspect/expectations`: a list, or an object holding it.
ExpectationBody = Annotated[list[Expectation], Field(max_length=MAX_EXPECTATIONS)] | ExpectationBatch


class VerifyRequest(BaseModel):
    """`POST /inspect/verify`: an expectations file's content (relay_mock/verify/topology.py)."""

    expect: Topology | None = None


# -- forwarding to a real Sentry (relay_mock/forwarding/) ------------------------------------


class ForwardState(Model):
    """Where one envelope is on its way upstream (an envelope's `forward`, in its detail view)."""

    state: Literal["pending", "sent", "rejected", "expired"]
    attempts: int
    possibly_duplicated: bool  # a send's answer was lost, so the upstream may have it twice
    status: int | None = None  # the upstream's last HTTP status
    detail: str | None = None  # the last error, or a rejection's body as the upstream sent it
    next_attempt_at: str | None = None  # pending only: not sent before this (backoff, rate limit)
    updated_at: str


class ForwardingProject(Model):
    """One forwarded project: its upstream (key masked) and every outcome so far."""

    project: ProjectRef
    upstream: str  # the upstream DSN with its key masked
    acknowledged: int  # envelopes queued for forwarding (each acknowledged one of this project)
    pending: int
    sent: int
    rejected: int
    expired: int  # not taken within RELAY_FORWARD_MAX_AGE, or evicted by retention unsent
    evicted_unsent: int  # of `expired`: evicted by retention before the upstream took them
    duplicates: int  # sent again after a send whose answer was lost (the upstream may hold two)
    oldest_pending_age_s: float | None = None
    last_error: str | None = None  # the latest 429, rejection, 5xx or failure to connect (kept across restarts)
    last_error_at: str | None = None
    statuses: dict[str, int] = Field(default_factory=dict)  # the upstream's answers by HTTP status
    rate_limited: dict[str, str] = Field(default_factory=dict)  # category ("*" = all) → until, now in force
    backing_off_until: str | None = None  # after 5xx answers or connection failures


class Forwarding(Model):
    """`GET /inspect/forwarding`: what relay-mock forwards to a real Sentry, and how it went."""

    enabled: bool
    max_age_s: float
    projects: list[ForwardingProject]
