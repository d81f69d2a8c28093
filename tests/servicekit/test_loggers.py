"""Log records and Sentry: application records become breadcrumbs (INFO+) and events
(ERROR+), both levels configurable; noisy libraries' records become neither."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sentry_sdk

from tests.servicekit.conftest import SentryInit


@pytest.fixture
def enabled_loggers() -> Iterator[list[str]]:
    """Names added to the list log at every level for the test (libraries default to WARNING)."""
    names: list[str] = []
    yield names
    for name in names:
        logging.getLogger(name).setLevel(logging.NOTSET)


def _logger(enabled_loggers: list[str], name: str) -> logging.Logger:
    enabled_loggers.append(name)
    logger = logging.getLogger(name)
    logger.setLevel(logging.DEBUG)
    return logger


def _probe_breadcrumbs(captured: Any) -> list[dict[str, Any]]:
    """Send a probe event and return the log breadcrumbs it carries."""
    sentry_sdk.capture_message("probe")
    probe = [event for event in captured.events() if event.get("message") == "probe"]
    assert len(probe) == 1
    return [crumb for crumb in probe[0].get("breadcrumbs", {}).get("values", []) if crumb.get("type") == "log"]


@pytest.mark.parametrize(
    "name",
    [
        "sqlalchemy.engine",
        "sqlalchemy.engine.Engine",
        "sqlalchemy.pool.impl.AsyncAdaptedQueuePool",
        "httpx",
        "httpcore.http11",
        "uvicorn.access",
        "uvicorn.error",
    ],
)
def test_a_noisy_loggers_records_become_neither_breadcrumbs_nor_events(
    sentry_init: SentryInit, enabled_loggers: list[str], name: str
) -> None:
    captured = sentry_init()
    noisy = _logger(enabled_loggers, name)

    with sentry_sdk.isolation_scope():
        noisy.info("chatter")
        noisy.error("loud chatter")
        crumbs = _probe_breadcrumbs(captured)

    assert [event.get("message") for event in captured.events()] == ["probe"]
    assert [crumb for crumb in crumbs if crumb.get("category") == name] == []


def test_application_records_become_breadcrumbs_from_info_and_events_from_error(
    sentry_init: SentryInit, enabled_loggers: list[str]
) -> None:
    captured = sentry_init()
    app = _logger(enabled_loggers, "orders.app")

    with sentry_sdk.isolation_scope():
        app.debug("too quiet")
        app.info("order placed")
        app.warning("stock low")
        app.error("order failed")
        crumbs = _probe_breadcrumbs(captured)

    assert [event.get("logentry", {}).get("message") for event in captured.events()[:-1]] == ["order failed"]
    assert [crumb["message"] for crumb in crumbs] == ["order placed", "stock low", "order failed"]


def test_sentry_log_breadcrumb_level_raises_the_breadcrumb_threshold(
    sentry_init: SentryInit, enabled_loggers: list[str]
) -> None:
    captured = sentry_init(sentry_log_breadcrumb_level="WARNING")
    app = _logger(enabled_loggers, "orders.app")

    with sentry_sdk.isolation_scope():
        app.info("order placed")
        app.warning("stock low")
        crumbs = _probe_breadcrumbs(captured)

    assert [crumb["message"] for crumb in crumbs] == ["stock low"]


def test_sentry_log_event_level_lowers_the_event_threshold(sentry_init: SentryInit, enabled_loggers: list[str]) -> None:
    captured = sentry_init(sentry_log_event_level="WARNING")
    app = _logger(enabled_loggers, "orders.app")

    with sentry_sdk.isolation_scope():
        app.info("order placed")
        app.warning("stock low")

    events = captured.events()
    assert [(event["level"], event["logentry"]["message"]) for event in events] == [("warning", "stock low")]
