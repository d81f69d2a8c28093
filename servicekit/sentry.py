"""The one place that configures the Sentry SDK for a service.

Everything the SDK sends passes through `before_send` / `before_send_transaction`, and
Sentry logs and metrics through `before_send_log` / `before_send_metric`: they are the kill
switch (`SENTRY_ENABLED=false`) and the scrubber for secrets. Streamed spans
(`trace_lifecycle="stream"`) pass `before_send_span`, which scrubs but cannot drop: for them
the kill switch is the sampler.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import re
import sys
import warnings
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

import sentry_sdk
from sentry_sdk.integrations.asyncio import AsyncioIntegration, enable_asyncio_integration
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.httpx import HttpxIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.integrations.sqlalchemy import SqlalchemyIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration

from servicekit.loggers import configure_sentry_loggers
from servicekit.sdk_version import SPANS_ONLY
from servicekit.settings import ServiceSettings
from servicekit.tracing import extract_sentry_trace

logger = logging.getLogger(__name__)

FILTERED = "[Filtered]"

# Keys whose values never leave the service, wherever they sit in an event.
SENSITIVE_KEY = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api[-_]?key|authori[sz]ation|cookie|session|credential|private[-_]?key|csrf",
    re.IGNORECASE,
)

# Secrets recognisable by their shape under any name (Relay's default scrubbers look at names,
# bearer credentials and card numbers, and let these through): well-known API key and token
# formats, JSON web tokens, private keys.
SECRET_VALUE = re.compile(
    r"\b(?:[sr]k_(?:live|test)_[A-Za-z0-9]{10,}|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_\w{20,}"
    r"|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35}"
    r"|eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,})"
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)"
)

# Parts of an event that carry user-controlled data; the rest (ids, timings, SDK info) is ours.
# `logentry` and `message` hold log lines, which quote whatever the code logged.
_SCRUBBED_SECTIONS = (
    "request",
    "extra",
    "user",
    "breadcrumbs",
    "exception",
    "threads",
    "tags",
    "contexts",
    "spans",
    "logentry",
    "message",
)
_KEEP_CONTEXTS = frozenset({"trace", "runtime", "os", "device", "profile", "otel"})


def configure_sentry(settings: ServiceSettings, **sdk_overrides: Any) -> bool:
    """Initialise the SDK from settings. Returns whether an SDK client is active.

    With no DSN the SDK is not initialised at all (no cost). With a DSN and
    `SENTRY_ENABLED=false` the SDK runs but the hooks drop everything it would send.
    `sdk_overrides` go straight to `sentry_sdk.init` (tests pass a capturing transport).
    """
    if not settings.sentry_dsn:
        logger.info("sentry: no SENTRY_DSN, SDK not initialised")
        return False
    if settings.sentry_profiles_sample_rate is not None:
        logger.warning(
            "SENTRY_PROFILES_SAMPLE_RATE is deprecated since sentry-sdk 2.72; "
            "using it as SENTRY_PROFILE_SESSION_SAMPLE_RATE with the trace lifecycle"
        )
    # The SDK deprecates set_measurement but still has no other way to put a
    # measurement on a transaction; the tracing middleware records response time with it.
    warnings.filterwarnings("ignore", message=r".*set_measurement\(\)` is deprecated", category=DeprecationWarning)

    configure_sentry_loggers()
    enabled = settings.sentry_enabled
    if enabled and settings.profile_session_sample_rate > 0 and profiler_may_deadlock():
        logger.warning(
            "sentry: profiling on Python %s can freeze this process (CPython gh-106883, fixed in 3.11.9 and"
            " 3.12.3); upgrade Python or set SENTRY_PROFILE_SESSION_SAMPLE_RATE=0",
            platform.python_version(),
        )
    hooks: dict[str, Any] = (
        {"traces_sample_rate": settings.sentry_traces_sample_rate}
        if settings.sentry_bare_sdk
        else {
            # Streamed spans pass no hook that can drop them: the sampler turns everything away.
            "traces_sampler": make_traces_sampler(settings.sentry_traces_sample_rate)
            if enabled or not settings.streams_spans
            else _never_sample,
            "before_send": make_before_send(enabled, scrub=settings.sentry_scrubbing),
            "before_send_log": make_before_send_telemetry(enabled, scrub=settings.sentry_scrubbing),
            "before_send_metric": make_before_send_telemetry(enabled, scrub=settings.sentry_scrubbing),
            # The SDK warns if this is set without span streaming; it is never called then.
            **({"before_send_span": scrub_span} if settings.streams_spans and settings.sentry_scrubbing else {}),
        }
    )
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.environment,
        release=settings.release,
        server_name=settings.sentry_server_name or settings.service_name,
        attach_stacktrace=settings.sentry_attach_stacktrace,
        # The hooks only see events, spans, logs and metrics: release-health sessions,
        # profiles and client reports bypass them, so SENTRY_ENABLED=false stops those at the source.
        profile_session_sample_rate=settings.profile_session_sample_rate if enabled else 0.0,
        profile_lifecycle="trace",
        auto_session_tracking=enabled,
        send_client_reports=enabled,
        debug=settings.sentry_debug,
        # An empty list is the documented way to stop outgoing propagation.
        trace_propagation_targets=[".*"] if settings.sentry_propagate_traces else [],
        # Explicit integrations only: auto-enabling would add asyncpg's integration next to
        # SQLAlchemy's and record every query twice (and Flask's, should it be installed).
        auto_enabling_integrations=False,
        integrations=[
            *web_integrations(),
            SqlalchemyIntegration(),
            AsyncioIntegration(),
            logging_integration(settings),
            HttpxIntegration(),
        ],
        **hooks,
        **major_options(settings, enabled),
        **sdk_overrides,
    )
    logger.info(
        "sentry: SDK initialised (release=%s, environment=%s, enabled=%s, traces_sample_rate=%s, trace_lifecycle=%s)",
        settings.release,
        settings.environment,
        enabled,
        settings.sentry_traces_sample_rate,
        "stream" if settings.streams_spans else "transactions",
    )
    return True


# What differs between sentry-python 2 and 3, one function per concern; `SDK_MAJOR` picks.


def major_options(settings: ServiceSettings, enabled: bool) -> dict[str, Any]:
    """The `init` options only one major has (its spelling of the trace lifecycle, of logs,
    of the transaction hook and of PII collection)."""
    return _sdk3_options(settings, enabled) if SPANS_ONLY else _sdk2_options(settings, enabled)


def _sdk2_options(settings: ServiceSettings, enabled: bool) -> dict[str, Any]:
    options: dict[str, Any] = {
        # Sentry logs (`log` items): the domain events of servicekit.telemetry, and stdlib
        # records at SENTRY_LOGS_LEVEL and above. Metrics (`trace_metric` items) are on by default.
        "enable_logs": enabled,
        # The SDK spells the transaction lifecycle "static".
        "trace_lifecycle": "stream" if settings.streams_spans else "static",
        # No `send_default_pii`: sentry-sdk 2.75 deprecates it, and leaving it unset means
        # False (no PII, the SDK's own EventScrubber on) without the DeprecationWarning.
    }
    if not settings.sentry_bare_sdk:
        options["before_send_transaction"] = make_before_send(enabled, scrub=settings.sentry_scrubbing)
    return options


# 3.0 collects user info (IP address, user) and cookies unless told not to (its `data_collection`
# replaces `send_default_pii`); this keeps what 2.x sends without PII. Headers and query strings
# stay as in 2.x: sent, with the SDK's deny-list and then scrub_event filtering them.
SDK3_DATA_COLLECTION: dict[str, Any] = {
    "user_info": False,
    "cookies": {"mode": "off"},
}


def _sdk3_options(settings: ServiceSettings, enabled: bool) -> dict[str, Any]:
    # No `enable_logs` (logs are always on: before_send_log is the kill switch), no
    # `before_send_transaction` (no transactions: each request is a segment span, which
    # before_send_span scrubs), and span streaming is the only lifecycle.
    return {"trace_lifecycle": "stream", "data_collection": SDK3_DATA_COLLECTION}


def web_integrations() -> list[StarletteIntegration]:
    """Starlette's and FastAPI's integrations, naming each request by its route template.

    2.x needs `transaction_style="url"` for that; 3.x names segments by route and has no option.
    """
    if SPANS_ONLY:
        return [StarletteIntegration(), FastApiIntegration()]
    return [StarletteIntegration(transaction_style="url"), FastApiIntegration(transaction_style="url")]  # type: ignore[call-arg,unused-ignore]


def logging_integration(settings: ServiceSettings) -> LoggingIntegration:
    """stdlib logging: breadcrumbs, error events and Sentry logs at the configured levels.

    3.0 renamed the arguments: its `level` is the Sentry-logs level (2.x's `sentry_logs_level`),
    and the breadcrumb level (2.x's `level`) is `breadcrumb_level`.
    """
    breadcrumbs = logging.getLevelName(settings.sentry_log_breadcrumb_level)
    events = logging.getLevelName(settings.sentry_log_event_level)
    logs = logging.getLevelName(settings.sentry_logs_level)
    if SPANS_ONLY:
        return LoggingIntegration(level=logs, event_level=events, breadcrumb_level=breadcrumbs)  # type: ignore[call-arg,unused-ignore]
    return LoggingIntegration(level=breadcrumbs, event_level=events, sentry_logs_level=logs)  # type: ignore[call-arg,unused-ignore]


def profiler_may_deadlock(version: tuple[int, ...] | None = None) -> bool:
    """Whether this CPython can deadlock while a profiler samples stacks: a garbage collection
    inside `sys._current_frames()` that frees a `threading.local` waits for a lock its own
    thread holds, with the GIL held (python/cpython#106883, fixed in 3.11.9 and 3.12.3)."""
    current = tuple(version or sys.version_info[:3])
    return current < (3, 11, 9) or (3, 12) <= current < (3, 12, 3)


def instrument_event_loop() -> bool:
    """Let the asyncio integration patch the running event loop; call it from the lifespan.

    `configure_sentry` runs before uvicorn creates its loop, and the asyncio integration
    patches only a loop that is already running: without this call it silently does
    nothing, and an exception in a background task never reaches Sentry.
    Returns whether the running loop now reports to Sentry.
    """
    if sentry_sdk.get_client().get_integration(AsyncioIntegration) is None:
        return False
    enable_asyncio_integration()
    return loop_is_instrumented()


def loop_is_instrumented() -> bool:
    """Whether the running loop's tasks report to Sentry (the asyncio integration's task factory)."""
    factory = asyncio.get_running_loop().get_task_factory()
    return bool(getattr(factory, "_is_sentry_task_factory", False))


# Probes poll these every few seconds; tracing them would bury real traffic. A flush that
# traced itself would leave its own transaction in the queue it has just emptied.
UNTRACED_PATH_PREFIXES = ("/health", "/test-flush")


def _never_sample(context: dict[str, Any]) -> float:
    return 0.0


def make_traces_sampler(rate: float) -> Any:
    """Sample at `rate`, follow the caller's decision when there is one, never trace probes.

    Following the caller means answering with the caller's own sample rate, not 1.0: with a
    traces_sampler set, the SDK writes the rate it returns into the DSC it sends and
    propagates, so 1.0 would rewrite the DSC the head froze (a caller sampling at 0.25
    would have its traces counted as if it kept them all). The SDK rolls the caller's
    sample_rand against the caller's rate, which gives the caller's decision back; where
    the caller's numbers do not give its decision, the decision wins.
    """

    def traces_sampler(context: dict[str, Any]) -> float:
        asgi_scope = context.get("asgi_scope") or {}
        if str(asgi_scope.get("path", "")).startswith(UNTRACED_PATH_PREFIXES):
            return 0.0
        parent_sampled = context.get("parent_sampled")
        if parent_sampled is None:
            return rate
        caller_rate = _caller_sample_rate(asgi_scope, bool(parent_sampled)) if asgi_scope else None
        return caller_rate if caller_rate is not None else float(parent_sampled)

    return traces_sampler


def _caller_sample_rate(asgi_scope: Mapping[str, Any], sampled: bool) -> float | None:
    """The caller's baggage sample rate, if it is valid and agrees with the caller's decision."""
    dsc = extract_sentry_trace(asgi_scope).dsc
    try:
        caller_rate = float(dsc["sample_rate"])
        sample_rand = float(dsc["sample_rand"]) if "sample_rand" in dsc else None
    except (KeyError, ValueError):
        return None
    if not 0.0 < caller_rate <= 1.0:
        return None
    if sample_rand is not None and (sample_rand < caller_rate) is not sampled:
        return None
    return caller_rate


def make_before_send(enabled: bool, *, scrub: bool = True) -> Any:
    """Build the hook both `before_send` and `before_send_transaction` use."""

    def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
        if not enabled:
            return None
        return scrub_event(event) if scrub else event

    return before_send


def make_before_send_telemetry(enabled: bool, *, scrub: bool = True) -> Any:
    """Build the hook `before_send_log` and `before_send_metric` use: the same kill switch and
    the same scrubbing as events get (`scrub=False` only for tests: SENTRY_SCRUBBING)."""

    def before_send_telemetry(record: Any, hint: dict[str, Any]) -> Any:
        if not enabled:
            return None
        return scrub_telemetry(record) if scrub else record

    return before_send_telemetry


def scrub_telemetry(record: Any) -> Any:
    """Scrub a Sentry log or metric in place: attributes under a sensitive name become
    "[Filtered]" (`sentry.message.parameter.password`, `http.request.header.cookie`...), and
    their values are redacted wherever else they appear (the formatted log body)."""
    scrubber = _Scrubber()
    attributes = record.get("attributes")
    if isinstance(attributes, Mapping):
        record["attributes"] = scrubber.scrub(attributes)
    if scrubber.secrets:
        for key in ("body", "attributes"):
            if key in record:
                record[key] = scrubber.redact(record[key])
    return record


def scrub_span(span: dict[str, Any], hint: dict[str, Any] | None = None) -> dict[str, Any]:
    """Scrub a streamed span in place, as `before_send_span` (sentry-sdk 2.75 keeps changes to a
    span's name and attributes, and ignores a None: a span cannot be dropped here).

    Attributes under a sensitive name become "[Filtered]" (`http.request.header.x-session-token`,
    a `db_password` our code set), values shaped like a well-known secret are filtered under any
    name (`db.statement` included), a URL query in the name or an attribute loses its sensitive
    parameters, and every value filtered is then redacted wherever else it appears.
    """
    scrubber = _Scrubber()
    attributes = span.get("attributes")
    if isinstance(attributes, dict):
        for key, value in attributes.items():
            if isinstance(value, str) and "?" in value:
                attributes[key] = scrubber.scrub_url(value)
        span["attributes"] = scrubber.scrub(attributes)
    name = span.get("name")
    if isinstance(name, str):
        span["name"] = scrubber.scrub(scrubber.scrub_url(name) if "?" in name else name)
    if scrubber.secrets:
        for key in ("name", "attributes"):
            if key in span:
                span[key] = scrubber.redact(span[key])
    return span


def scrub_event(event: dict[str, Any]) -> dict[str, Any]:
    """Replace every value stored under a sensitive key by "[Filtered]", in place, then
    redact those values wherever else they appear in the event.

    The second pass matters for stack traces: frame variables hold the raw request in
    shapes no key names, such as the ASGI scope's header pairs or a `Headers(...)` repr.
    """
    scrubber = _Scrubber()
    request = event.get("request")
    if isinstance(request, dict) and isinstance(request.get("query_string"), str):
        request["query_string"] = scrubber.scrub_query(request["query_string"])
    _each_section(event, scrubber.scrub)
    if scrubber.secrets:
        _each_section(event, scrubber.redact)
    return event


def _each_section(event: dict[str, Any], apply: Any) -> None:
    for section in _SCRUBBED_SECTIONS:
        value = event.get(section)
        if value is None:
            continue
        if section == "contexts" and isinstance(value, dict):
            for name, context in value.items():
                if name not in _KEEP_CONTEXTS:
                    value[name] = apply(context)
        else:
            event[section] = apply(value)


# How the SDK writes str and bytes values of frame variables: 'text', b'text' (or with ").
_REPR = re.compile(r"""b?(['"])(.*)\1""", re.DOTALL)
_KEY_LIKE = re.compile(r"[\w.-]{1,64}")
# Shorter values are too common to redact wherever they appear.
_MIN_SECRET_LENGTH = 8
# Every transaction repeats the same few dozen keys (span data, contexts, headers): asking the
# regex once per distinct key, not once per occurrence, is most of what scrubbing a
# transaction costs. Keys come from code, not from users, so the cache stays small; it is
# bounded anyway, in case a service puts user-chosen keys into its events.
_KEY_CACHE_MAX = 4096
_sensitive_keys: dict[str, bool] = {}


def _is_sensitive_key(key: str) -> bool:
    known = _sensitive_keys.get(key)
    if known is None:
        known = SENSITIVE_KEY.search(key) is not None
        if len(_sensitive_keys) < _KEY_CACHE_MAX:
            _sensitive_keys[key] = known
    return known


class _Scrubber:
    """Filters sensitive values and remembers them, so `redact` can find their copies.

    Both passes change dicts and lists in place (the event is the SDK's own copy, built for
    this send): rebuilding every container cost more than the checks themselves.
    """

    def __init__(self) -> None:
        self.secrets: set[str] = set()

    def scrub(self, value: Any) -> Any:
        if isinstance(value, dict):
            for key, val in value.items():
                if isinstance(key, str) and _is_sensitive_key(key) and val not in (None, ""):
                    value[key] = self._filter(val)
                elif isinstance(val, dict | list | tuple):
                    value[key] = self.scrub(val)
                elif isinstance(val, str):
                    value[key] = self._scrub_text(val)
            return value
        if isinstance(value, list | tuple):
            # A (name, value) pair, as ASGI headers appear among frame variables.
            if len(value) == 2 and _is_sensitive_name(value[0]) and value[1] not in (None, ""):
                return [value[0], self._filter(value[1])]
            items = value if isinstance(value, list) else list(value)
            for index, item in enumerate(items):
                if isinstance(item, dict | list | tuple):
                    items[index] = self.scrub(item)
                elif isinstance(item, str):
                    items[index] = self._scrub_text(item)
            return items
        if isinstance(value, Mapping):
            return self.scrub(dict(value))
        if isinstance(value, str):
            return self._scrub_text(value)
        return value

    def _scrub_text(self, value: str) -> str:
        """A value shaped like a well-known secret (a Stripe or GitHub token, a JWT...) under
        any name: filtered, and remembered for its copies."""
        if not SECRET_VALUE.search(value):
            return value
        self.secrets.update(m.group() for m in SECRET_VALUE.finditer(value))
        return SECRET_VALUE.sub(FILTERED, value)

    def scrub_query(self, query: str) -> str:
        pairs = parse_qsl(query, keep_blank_values=True)
        if not any(_is_sensitive_key(key) for key, _ in pairs):
            return query
        return urlencode([(key, self._filter(val) if _is_sensitive_key(key) else val) for key, val in pairs])

    def scrub_url(self, text: str) -> str:
        """`text` with the query of the URL it ends with scrubbed by parameter name: a span is
        named "GET /path?query" and `url.full` or `http.url` may hold a whole URL."""
        head, _, query = text.partition("?")
        query, hash_mark, fragment = query.partition("#")
        if "=" not in query:
            return text
        return f"{head}?{self.scrub_query(query)}{hash_mark}{fragment}"

    def redact(self, value: Any) -> Any:
        if isinstance(value, str):
            for secret in sorted(self.secrets, key=len, reverse=True):
                if secret in value:
                    value = value.replace(secret, FILTERED)
            return value
        if isinstance(value, dict):
            for key, val in value.items():
                value[key] = self.redact(val)
            return value
        if isinstance(value, list | tuple):
            items = value if isinstance(value, list) else list(value)
            for index, item in enumerate(items):
                items[index] = self.redact(item)
            return items
        if isinstance(value, Mapping):
            return self.redact(dict(value))
        return value

    def _filter(self, value: Any) -> str:
        self._remember(value)
        return FILTERED

    def _remember(self, value: Any) -> None:
        if isinstance(value, Mapping):
            value = list(value.values())
        if isinstance(value, list | tuple):
            for item in value:
                self._remember(item)
            return
        if not isinstance(value, str) or value == FILTERED:
            return
        text = _unrepr(value)
        # The whole value, and its parts: "Bearer <token>", "session=<value>; theme=<value>".
        candidates = [text, *(part.partition("=")[2] or part for part in re.split(r"[;,]\s*|\s+", text))]
        self.secrets.update(c for c in candidates if len(c) >= _MIN_SECRET_LENGTH and c != FILTERED)


def _unrepr(text: str) -> str:
    match = _REPR.fullmatch(text)
    return match.group(2) if match else text


def _is_sensitive_name(value: Any) -> bool:
    """Whether a pair's first item is a sensitive name (a header name, possibly as bytes repr)."""
    if not isinstance(value, str):
        return False
    name = _unrepr(value)
    return bool(_KEY_LIKE.fullmatch(name) and SENSITIVE_KEY.search(name))
