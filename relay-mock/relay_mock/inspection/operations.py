"""The one table of the inspection API's operations: method, path, handler, parameters, body and
responses. The app's `/inspect/` routes (inspection/routes.py), the OpenAPI document
(inspection/openapi.py) and the MCP tools (mcp.py) are all built from it, so none can list an
operation, a parameter or a bound the others lack. It declares; it imports no handler."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.inspection.bodies import BodyRefusal, expectations_refusal, fault_rule_refusal
from relay_mock.inspection.params import FLAGS, Kind, parse_value

Handler = Callable[[Request], Awaitable[Response]]
JsonSchema = dict[str, Any]


@dataclass(frozen=True)
class Param:
    name: str
    schema: JsonSchema
    description: str
    where: Literal["query", "path", "header"] = "query"
    kind: Kind = "text"  # how the checked text becomes the value (params.parse_value)

    def parse(self, request: Request) -> Any:
        if self.where == "path":
            raw = request.path_params.get(self.name)
            return parse_value(self.name, self.schema, self.kind, None if raw is None else str(raw))
        source = request.query_params if self.where == "query" else request.headers
        return parse_value(self.name, self.schema, self.kind, source.get(self.name))

    def to_openapi(self) -> JsonSchema:
        described: JsonSchema = {
            "name": self.name,
            "in": self.where,
            "required": self.where == "path",
            "description": self.description,
            "schema": self.schema,
        }
        if self.where == "query":
            described["allowEmptyValue"] = True  # `?since=` is the same as no `since` (an HTML form's way)
        return described


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # Starlette's pattern; `{index:int}` is `{index}` in the document
    # The handler as "module.function" of relay_mock/inspection/: a name, not the function, so the
    # table stays a declaration that the HTTP routes (routes.py) and the MCP tools (mcp.py) both
    # read without one adapter importing the other.
    handler: str
    summary: str
    response: type[BaseModel] | None  # None: a body that is not JSON (see media_type), or none (204)
    params: tuple[Param, ...] = ()
    body: Any = None  # a model or a TypeAdapter-able type, sent as JSON
    # How a body that is JSON but not a valid `body` is refused (422, naming the field): given,
    # the route validates the body through `body` before the handler runs (request.state.body);
    # None, the handler reads the body itself.
    body_refusal: BodyRefusal | None = None
    status: int = 200
    media_type: str = "application/json"
    errors: tuple[int, ...] = ()  # beyond those every operation may answer (COMMON_ERRORS)
    tag: str = ""
    response_headers: dict[str, JsonSchema] = field(default_factory=dict)
    event: type[BaseModel] | None = None  # a text/event-stream's events: each one's `data`, as JSON


# -- parameters: each says what the handler accepts (inspection/params.py parses them) --------


def integer(name: str, description: str, *, low: int, high: int, default: int | None = None) -> Param:
    schema: JsonSchema = {"type": "integer", "minimum": low, "maximum": high}
    if default is not None:
        schema["default"] = default
    return Param(name, schema, description, kind="integer")


def number(name: str, description: str, *, low: float, high: float, default: float) -> Param:
    schema: JsonSchema = {"type": "number", "minimum": low, "maximum": high, "default": default}
    return Param(name, schema, description, kind="number")


def text(name: str, description: str) -> Param:
    return Param(name, {"type": "string"}, description)


def choice(name: str, values: tuple[str, ...], description: str, *, default: str | None = None) -> Param:
    schema: JsonSchema = {"type": "string", "enum": list(values)}
    if default is not None:
        schema["default"] = default
    return Param(name, schema, description, kind="choice")


def flag(name: str, description: str, *, default: bool) -> Param:
    schema: JsonSchema = {"type": "string", "enum": list(FLAGS), "default": "true" if default else "false"}
    return Param(name, schema, description, kind="flag")


def hex_id(name: str, length: int, description: str, where: Literal["query", "path"] = "query") -> Param:
    # Dashes are ignored (a UUID's form is accepted), letters in either case.
    pattern = f"^-*(?:[0-9a-fA-F]-*){{{length}}}$"
    return Param(name, {"type": "string", "pattern": pattern}, description, where, kind="hex")


def instant(name: str, description: str) -> Param:
    return Param(
        name,
        {"anyOf": [{"type": "number"}, {"type": "string", "format": "date-time"}]},
        f"{description}: seconds since the epoch, or ISO 8601",
        kind="instant",
    )


def path_text(name: str, description: str) -> Param:
    return Param(name, {"type": "string"}, description, "path")


TRACE_ID = hex_id("trace_id", 32, "only items of this trace (32 hex characters)")
SPAN_ID = hex_id("span_id", 16, "only those of this span (16 hex characters)")
SINCE = instant("since", "received at or after")
UNTIL = instant("until", "received before")
CURSOR = integer("cursor", "the `next_cursor` of the previous page", low=0, high=2**62)
TELEMETRY_CURSOR = Param(
    "cursor",
    {"type": "string", "pattern": r"^\d{1,18}\.\d{1,18}\.\d{1,18}$"},
    "the `next_cursor` of the previous page",
    kind="telemetry_cursor",
)
PROJECT = text("project", "a project's name or numeric id")
SERVICE = text("service", "a project's name (the service that sent it)")
ENVELOPE_ID = path_text("envelope_id", "the envelope's id")
MAX_INDEX = 2**63 - 1  # SQLite's largest integer: an index past it is no item
ITEM_INDEX = Param("index", {"type": "integer", "minimum": 0}, "the item's index, from 0", "path", "integer")

ENVELOPE_FILTERS = (
    text("type", "only envelopes with an item of this type (event, transaction, span, log...)"),
    TRACE_ID,
    hex_id("event_id", 32, "only the envelope of this event (32 hex characters)"),
    PROJECT,
    text("release", "only this release"),
    text("environment", "only this environment"),
    text("server_name", "only this server name"),
    SINCE,
    UNTIL,
)
LOG_LEVELS = ("trace", "debug", "info", "warn", "warning", "error", "fatal", "critical")
METRIC_TYPES = ("counter", "gauge", "distribution")

# Every operation may answer these: the web guard's refusals (relay_mock/web_guard.py).
COMMON_ERRORS = (401, 403)
ERROR_MEANINGS = {
    400: "a parameter or the body is invalid",
    401: "this relay-mock asks for its inspection token (RELAY_INSPECT_TOKEN)",
    403: "the Host is not one of relay-mock's names, or a cross-origin change",
    404: "no such thing",
    415: "a POST whose body is not JSON",
    422: "the body is JSON but not a valid one",
}


OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET", "/inspect/envelopes", "envelopes.list_envelopes", "Envelopes, newest first", models.EnvelopePage,
        params=(
            *ENVELOPE_FILTERS,
            integer("limit", "envelopes per page", low=1, high=1000, default=50),
            CURSOR,
            choice("order", ("asc", "desc"), "oldest (asc) or newest (desc) first", default="desc"),
            flag("payloads", "include the items' headers and payloads", default=True),
            choice("forward", ("pending", "sent", "rejected", "expired", "none"),
                   "only envelopes in this forwarding state (none: not forwarded)"),
        ),
        errors=(400,), tag="envelopes",
    ),
    Operation(
        "DELETE", "/inspect/envelopes", "envelopes.delete_all", "Delete everything stored", models.Deleted,
        tag="envelopes",
    ),
    Operation(
        "GET", "/inspect/envelopes.jsonl", "envelopes.export_jsonl",
        "Every matching envelope, oldest first, one JSON document a line", None,
        params=ENVELOPE_FILTERS, media_type="application/x-ndjson", errors=(400,), tag="envelopes",
    ),
    Operation(
        "GET", "/inspect/envelopes/{envelope_id}", "envelopes.get_envelope", "One envelope, parsed", models.Envelope,
        params=(ENVELOPE_ID,), errors=(404,), tag="envelopes",
    ),
    Operation(
        "GET", "/inspect/envelopes/{envelope_id}/raw", "envelopes.get_raw",
        "One envelope's exact decompressed bytes (of an OTLP request: its body, protobuf or JSON)", None,
        params=(ENVELOPE_ID,), media_type="application/x-sentry-envelope", errors=(404,), tag="envelopes",
    ),
    Operation(
        "GET", "/inspect/envelopes/{envelope_id}/items/{index:int}/relay", "relay.get_item_view",
        "What Sentry itself would store for one item (Relay's normalization and scrubbing)", models.ItemView,
        params=(ENVELOPE_ID, ITEM_INDEX),
        errors=(404,), tag="relay",
    ),
    Operation(
        "GET", "/inspect/leaks", "relay.get_leaks", "Secrets that survive the SDK's hooks and Relay's scrubbing",
        models.LeakReport,
        params=(integer("limit", "items at most", low=1, high=10_000, default=100), PROJECT),
        errors=(400,), tag="relay",
    ),
    Operation(
        "GET", "/inspect/traces", "traces.list_traces", "Traces, most recently active first", models.TracePage,
        params=(integer("limit", "traces per page", low=1, high=500, default=50), CURSOR, PROJECT, SINCE),
        errors=(400,), tag="traces",
    ),
    Operation(
        "GET", "/inspect/traces/{trace_id}", "traces.get_trace",
        "One trace as a tree, marked with the verifier's findings", models.Trace,
        params=(hex_id("trace_id", 32, "the trace id (32 hex characters)", "path"),),
        errors=(400, 404), tag="traces",
    ),
    Operation(
        "GET", "/inspect/errors", "error_events.list_errors", "Error events, newest first", models.ErrorPage,
        params=(
            integer("limit", "errors per page", low=1, high=1000, default=50),
            CURSOR, PROJECT, TRACE_ID,
            text("level", "only this level (error, warning...)"),
            text("q", "text searched in the type, value, message and transaction"),
        ),
        errors=(400,), tag="errors",
    ),
    Operation(
        "GET", "/inspect/errors/{event_id}", "error_events.get_error",
        "One error event: stack trace, breadcrumbs, tags, the event as sent", models.ErrorDetail,
        params=(path_text("event_id", "the event id"),), errors=(404,), tag="errors",
    ),
    Operation(
        "GET", "/inspect/logs", "logs.list_logs", "Sentry logs, newest first", models.LogPage,
        params=(
            SERVICE,
            choice("level", LOG_LEVELS, "only this level"),
            TRACE_ID, SPAN_ID,
            text("q", "text searched in the body"),
            text("template", "only logs of this message template"),
            SINCE, UNTIL,
            integer("limit", "logs per page", low=1, high=1000, default=100),
            TELEMETRY_CURSOR,
        ),
        errors=(400,), tag="telemetry",
    ),
    Operation(
        "GET", "/inspect/metrics", "metrics.list_metrics",
        "Trace metrics: raw points, newest first, and per metric a series of aggregates per time bucket",
        models.MetricPage,
        params=(
            text("name", "only this metric"),
            choice("type", METRIC_TYPES, "only this type of metric"),
            SERVICE, TRACE_ID, SPAN_ID, SINCE, UNTIL,
            integer("limit", "points per page", low=1, high=1000, default=100),
            TELEMETRY_CURSOR,
            flag("series", "include the series", default=True),
            number("bucket", "the series' bucket width in seconds", low=0.001, high=86_400.0, default=10.0),
            integer("max_points", "raw points per series at most", low=1, high=100_000, default=2000),
        ),
        errors=(400,), tag="telemetry",
    ),
    Operation(
        "GET", "/inspect/stats", "stats.get_stats",
        "Counts by type, project and service; bytes; refusals; the SDKs' client reports", models.Stats,
        tag="statistics",
    ),
    Operation(
        "GET", "/inspect/refusals", "stats.get_refusals", "Requests relay-mock refused, newest first",
        models.RefusalList,
        params=(integer("limit", "refusals at most", low=1, high=10_000, default=100),), errors=(400,),
        tag="statistics",
    ),
    Operation(
        "GET", "/inspect/wait", "live.wait", "Block until `count` items match the filters, or `timeout` passed",
        models.WaitResult,
        params=(
            *ENVELOPE_FILTERS,
            integer("count", "how many matching items to wait for", low=1, high=1_000_000, default=1),
            number("timeout", "seconds to wait at most", low=0.0, high=300.0, default=10.0),
        ),
        errors=(400,), tag="live",
    ),
    Operation(
        "GET", "/inspect/stream", "live.stream",
        "Server-sent events: one `envelope` event (an envelope without payloads) per stored envelope", None,
        params=(
            PROJECT,
            text("type", "only envelopes with an item of this type"),
            Param("Last-Event-ID", {"type": "string"}, "the last `seq` seen: replays what came since", "header"),
        ),
        media_type="text/event-stream", tag="live", event=models.LiveEnvelope,
    ),
    Operation(
        "GET", "/inspect/verify", "verify.verify_traces", "The trace verifier's report", models.Verdict,
        params=(
            SINCE, UNTIL, TRACE_ID,
            number("deadline", "seconds to keep waiting while expected traces miss transactions",
                   low=0.0, high=600.0, default=0.0),
        ),
        errors=(400,), tag="verifier",
        response_headers={"x-verify-ok": {"type": "string", "enum": ["true", "false"]}},
    ),
    Operation(
        "POST", "/inspect/verify", "verify.verify_traces", "The trace verifier's report, with an expectations file",
        models.Verdict,
        params=(
            SINCE, UNTIL, TRACE_ID,
            number("deadline", "seconds to keep waiting while expected traces miss transactions",
                   low=0.0, high=600.0, default=0.0),
        ),
        body=models.VerifyRequest, errors=(400, 415), tag="verifier",
        response_headers={"x-verify-ok": {"type": "string", "enum": ["true", "false"]}},
    ),
    Operation(
        "GET", "/inspect/faults", "faults.list_rules", "The fault rules in force", models.FaultRuleList, tag="faults",
    ),
    Operation(
        "POST", "/inspect/faults", "faults.add_rule", "Add a fault rule", models.FaultRule,
        body=models.FaultRuleSpec, body_refusal=fault_rule_refusal, status=201, errors=(400, 415, 422), tag="faults",
    ),
    Operation(
        "DELETE", "/inspect/faults", "faults.remove_all", "Remove every fault rule", None, status=204, tag="faults",
    ),
    Operation(
        "DELETE", "/inspect/faults/{rule_id}", "faults.remove_rule", "Remove one fault rule", None,
        params=(path_text("rule_id", "the rule's id"),), status=204, errors=(404,), tag="faults",
    ),
    Operation(
        "GET", "/inspect/expectations", "expectations.list_expectations", "The traces a test or Locust started",
        models.ExpectationList,
        params=(SINCE, UNTIL, TRACE_ID, integer("limit", "expectations at most", low=1, high=1_000_000, default=1000)),
        errors=(400,), tag="expectations",
    ),
    Operation(
        "POST", "/inspect/expectations", "expectations.record", "Record the traces a test or Locust started",
        models.Recorded,
        body=models.ExpectationBody, body_refusal=expectations_refusal, errors=(400, 415, 422), tag="expectations",
    ),
    Operation(
        "GET", "/inspect/forwarding", "forwarding.get_forwarding",
        "Forwarding to a real Sentry: per project pending, sent, rejected, expired, the upstream's answers",
        models.Forwarding, tag="forwarding",
    ),
    Operation(
        "GET", "/inspect/projects", "projects.list_projects", "The projects relay-mock accepts, with a DSN each",
        models.ProjectList, tag="projects",
    ),
)  # fmt: skip
