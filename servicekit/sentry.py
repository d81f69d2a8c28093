"""The one place that configures the Sentry SDK for a service.

Everything the SDK sends passes through `before_send` / `before_send_transaction`:
they are the kill switch (`SENTRY_ENABLED=false`) and the scrubber for secrets.
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlencode

import sentry_sdk
from sentry_sdk.integrations.asyncio import AsyncioIntegration
from sentry_sdk.integrations.fastapi import FastApiIntegration
from sentry_sdk.integrations.httpx import HttpxIntegration
from sentry_sdk.integrations.logging import LoggingIntegration
from sentry_sdk.integrations.sqlalchemy import SqlalchemyIntegration
from sentry_sdk.integrations.starlette import StarletteIntegration

from servicekit.loggers import configure_sentry_loggers
from servicekit.settings import ServiceSettings

logger = logging.getLogger(__name__)

FILTERED = "[Filtered]"

# Keys whose values never leave the service, wherever they sit in an event.
SENSITIVE_KEY = re.compile(
    r"pass(word|wd|phrase)?|secret|token|api[-_]?key|authori[sz]ation|cookie|session|credential|private[-_]?key|csrf",
    re.IGNORECASE,
)

# Parts of an event that carry user-controlled data; the rest (ids, timings, SDK info) is ours.
_SCRUBBED_SECTIONS = ("request", "extra", "user", "breadcrumbs", "exception", "threads", "tags", "contexts", "spans")
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
    sentry_sdk.init(
        dsn=settings.sentry_dsn,
        environment=settings.environment,
        release=settings.release,
        server_name=settings.sentry_server_name or settings.service_name,
        attach_stacktrace=settings.sentry_attach_stacktrace,
        traces_sampler=make_traces_sampler(settings.sentry_traces_sample_rate),
        profile_session_sample_rate=settings.profile_session_sample_rate,
        profile_lifecycle="trace",
        send_default_pii=False,
        send_client_reports=enabled,
        debug=settings.sentry_debug,
        # An empty list is the documented way to stop outgoing propagation.
        trace_propagation_targets=[".*"] if settings.sentry_propagate_traces else [],
        # Explicit integrations only: auto-enabling would add asyncpg's integration next to
        # SQLAlchemy's and record every query twice (and Flask's, should it be installed).
        auto_enabling_integrations=False,
        integrations=[
            StarletteIntegration(transaction_style="url"),
            FastApiIntegration(transaction_style="url"),
            SqlalchemyIntegration(),
            AsyncioIntegration(),
            LoggingIntegration(
                level=logging.getLevelName(settings.sentry_log_breadcrumb_level),
                event_level=logging.getLevelName(settings.sentry_log_event_level),
            ),
            HttpxIntegration(),
        ],
        before_send=make_before_send(enabled),
        before_send_transaction=make_before_send(enabled),
        **sdk_overrides,
    )
    logger.info(
        "sentry: SDK initialised (release=%s, environment=%s, enabled=%s, traces_sample_rate=%s)",
        settings.release,
        settings.environment,
        enabled,
        settings.sentry_traces_sample_rate,
    )
    return True


# Probes poll these every few seconds; tracing them would bury real traffic.
UNTRACED_PATH_PREFIXES = ("/health",)


def make_traces_sampler(rate: float) -> Any:
    """Sample at `rate`, follow the caller's decision when there is one, never trace probes."""

    def traces_sampler(context: dict[str, Any]) -> float:
        asgi_scope = context.get("asgi_scope") or {}
        if str(asgi_scope.get("path", "")).startswith(UNTRACED_PATH_PREFIXES):
            return 0.0
        parent_sampled = context.get("parent_sampled")
        if parent_sampled is not None:
            return 1.0 if parent_sampled else 0.0
        return rate

    return traces_sampler


def make_before_send(enabled: bool) -> Any:
    """Build the hook both `before_send` and `before_send_transaction` use."""

    def before_send(event: dict[str, Any], hint: dict[str, Any]) -> dict[str, Any] | None:
        if not enabled:
            return None
        return scrub_event(event)

    return before_send


def scrub_event(event: dict[str, Any]) -> dict[str, Any]:
    """Replace every value stored under a sensitive key by "[Filtered]", in place."""
    for section in _SCRUBBED_SECTIONS:
        value = event.get(section)
        if value is None:
            continue
        if section == "contexts" and isinstance(value, dict):
            for name, context in value.items():
                if name not in _KEEP_CONTEXTS:
                    value[name] = _scrub(context)
        else:
            event[section] = _scrub(value)
    request = event.get("request")
    if isinstance(request, dict) and isinstance(request.get("query_string"), str):
        request["query_string"] = _scrub_query(request["query_string"])
    return event


def _scrub(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            key: FILTERED
            if isinstance(key, str) and SENSITIVE_KEY.search(key) and val not in (None, "")
            else _scrub(val)
            for key, val in value.items()
        }
    if isinstance(value, list):
        return [_scrub(item) for item in value]
    return value


def _scrub_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    if not any(SENSITIVE_KEY.search(key) for key, _ in pairs):
        return query
    return urlencode([(key, FILTERED if SENSITIVE_KEY.search(key) else val) for key, val in pairs])
