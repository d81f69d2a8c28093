"""Logging for services: one configuration at start, a request id on every record,
and the list of noisy loggers Sentry must ignore."""

from __future__ import annotations

import logging
import sys
from contextvars import ContextVar

from sentry_sdk.integrations import logging as sentry_logging

from servicekit.sdk_version import SPANS_ONLY

# sentry-python 3 renamed 2.x's `ignore_logger` (no breadcrumbs, no events) to
# `ignore_logger_for_events`, and gave the old name to what 2.x called
# `ignore_logger_for_sentry_logs`: the same call now silences another channel.
ignore_logger_for_events = (
    sentry_logging.ignore_logger_for_events if SPANS_ONLY else sentry_logging.ignore_logger  # type: ignore[attr-defined,unused-ignore]
)

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Loggers whose records are noise to Sentry: access lines, SQL echo, HTTP client chatter.
NOISY_LOGGERS = (
    "uvicorn.access",
    "uvicorn.error",
    # Logs exceptions the SDK already captured (servicekit.server.KeepAliveAfterErrors).
    "servicekit.server",
    "sqlalchemy.engine",
    "sqlalchemy.engine.Engine",
    "sqlalchemy.pool",
    # Created with the first engine, after Sentry is configured: named here, not found by the walk below.
    "sqlalchemy.pool.impl.AsyncAdaptedQueuePool",
    "sqlalchemy.dialects",
    "sqlalchemy.orm",
    "httpx",
    "httpcore",
    "asyncio",
    "urllib3",
    "watchfiles",
)


def configure_sentry_loggers(extra: tuple[str, ...] = ()) -> None:
    """Stop the noisy loggers' records, and their children's, from becoming Sentry
    breadcrumbs or events.

    Sentry matches logger names exactly, but libraries log from children
    (`httpcore.http11`, `sqlalchemy.pool.impl.*`): every child registered so far is
    ignored too, so call this once the libraries are imported.
    """
    names = (*NOISY_LOGGERS, *extra)
    children = tuple(f"{name}." for name in names)
    for name in (*names, *(known for known in logging.root.manager.loggerDict if known.startswith(children))):
        ignore_logger_for_events(name)


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


def configure_logging(service_name: str, level: str) -> None:
    """Configure the root logger once per process (stdout, one line per record)."""
    handler = logging.StreamHandler(sys.stdout)
    handler.addFilter(_RequestIdFilter())
    handler.setFormatter(
        logging.Formatter(f"%(asctime)s %(levelname)s {service_name} [%(request_id)s] %(name)s: %(message)s")
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Per-request chatter from libraries would drown the application's own records.
    for name in ("uvicorn.access", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
