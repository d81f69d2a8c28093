"""Sentry logs, metrics and streamed spans from the services' shared setup, captured in process
with the real SDK: templates and parameters, stdlib forwarding, the business metrics, the
scrubbing that guards events guarding these too, and SENTRY_TRACE_LIFECYCLE."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
import sentry_sdk
from fastapi import APIRouter
from sqlalchemy import MetaData

from servicekit import telemetry
from servicekit.app import create_service_app
from servicekit.settings import ServiceSettings, SettingsError, load_settings
from servicekit.telemetry import OrderOutcome
from servicekit.tracing import sentry_span
from tests.servicekit.conftest import TEST_HOST, Captured, SentryInit, make_settings
from tests.support.sdk_major import LIFECYCLES, SPANS_ONLY, sdk2_only

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
logger = logging.getLogger("tests.telemetry")
# As configure_logging sets the services up: the SDK, not the logger, decides what leaves.
logger.setLevel(logging.DEBUG)


def _records(captured: Captured, item_type: str) -> list[dict[str, Any]]:
    return [record for container in captured.items(item_type) for record in container["items"]]


def _attribute(record: dict[str, Any], name: str) -> Any:
    return record["attributes"][name]["value"]


def _app(settings: ServiceSettings) -> httpx.AsyncClient:
    router = APIRouter()

    @router.post("/work")
    async def work() -> dict[str, str]:
        telemetry.order_placed("o-1", "SKU-1", 2)
        logger.info("stdlib says %s", "hello")
        logger.debug("too quiet to leave")
        with sentry_span("db.work", "inner work"):
            telemetry.stock_reserved("SKU-1", 2, 40)
        telemetry.order_finished("o-1", OrderOutcome.CONFIRMED, 12.5)
        return {"done": "yes"}

    app = create_service_app(settings, title="t", description="t", metadata=MetaData(schema="t"), routers=[router])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=f"http://{TEST_HOST}")


async def _serve_one(settings: ServiceSettings) -> None:
    async with _app(settings) as client:
        response = await client.post("/work", headers={"sentry-trace": f"{TRACE_ID}-{CALLER_SPAN}-1"})
        assert response.status_code == 200
    sentry_sdk.flush()


def test_the_trace_lifecycle_defaults_to_the_sdks_own_and_refuses_other_values(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # sentry-python 2 sends transactions by default; 3 has nothing but span streaming.
    assert make_settings().sentry_trace_lifecycle == ("stream" if SPANS_ONLY else "transactions")
    monkeypatch.setenv("SENTRY_TRACE_LIFECYCLE", "streaming")

    with pytest.raises(SettingsError, match=r"SENTRY_TRACE_LIFECYCLE: .*'transactions' or 'stream'"):
        load_settings(ServiceSettings)


def test_transactions_are_refused_at_start_only_by_an_sdk_that_cannot_send_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SENTRY_TRACE_LIFECYCLE", "transactions")

    if SPANS_ONLY:
        with pytest.raises(SettingsError, match=r"SENTRY_TRACE_LIFECYCLE: sentry-sdk 3\.\S+ sends spans only"):
            load_settings(ServiceSettings)
    else:
        assert load_settings(ServiceSettings).sentry_trace_lifecycle == "transactions"


@pytest.mark.parametrize(
    ("lifecycle", "sdk_option"),
    [pytest.param("transactions", "static", marks=sdk2_only("3.x streams spans only")), ("stream", "stream")],
)
def test_the_trace_lifecycle_reaches_the_sdk(sentry_init: SentryInit, lifecycle: str, sdk_option: str) -> None:
    sentry_init(sentry_trace_lifecycle=lifecycle)

    options = sentry_sdk.get_client().options
    assert options["trace_lifecycle"] == sdk_option
    # 3.x has no `enable_logs`: logs are always on, and before_send_log is the kill switch.
    assert options.get("enable_logs", True) is True


@pytest.mark.anyio
@pytest.mark.parametrize("lifecycle", LIFECYCLES)
async def test_domain_events_leave_as_logs_with_their_template_parameters_and_the_requests_trace(
    sentry_init: SentryInit, lifecycle: str
) -> None:
    settings = make_settings(sentry_trace_lifecycle=lifecycle)
    captured = sentry_init(settings)

    await _serve_one(settings)

    logs = {_attribute(log, "sentry.message.template"): log for log in _records(captured, "log")}
    placed = logs["order {order_id} placed: {quantity} x {sku}"]
    assert placed["body"] == "order o-1 placed: 2 x SKU-1"
    assert placed["level"] == "info"
    assert _attribute(placed, "sentry.message.parameter.sku") == "SKU-1"
    assert _attribute(placed, "sentry.message.parameter.quantity") == 2
    assert {log["trace_id"] for log in logs.values()} == {TRACE_ID}
    assert all(log.get("span_id") for log in logs.values())


@pytest.mark.anyio
async def test_stdlib_records_at_info_and_above_are_forwarded_as_logs(sentry_init: SentryInit) -> None:
    settings = make_settings()
    captured = sentry_init(settings)

    await _serve_one(settings)

    bodies = [log["body"] for log in _records(captured, "log")]
    assert "stdlib says hello" in bodies
    assert "too quiet to leave" not in bodies


@pytest.mark.anyio
@pytest.mark.parametrize("lifecycle", LIFECYCLES)
async def test_orders_latency_and_stock_leave_as_metrics_of_the_requests_trace(
    sentry_init: SentryInit, lifecycle: str
) -> None:
    settings = make_settings(sentry_trace_lifecycle=lifecycle)
    captured = sentry_init(settings)

    await _serve_one(settings)

    metrics = {metric["name"]: metric for metric in _records(captured, "trace_metric")}
    assert (metrics["orders"]["type"], metrics["orders"]["value"]) == ("counter", 1)
    assert _attribute(metrics["orders"], "outcome") == "confirmed"
    latency = metrics["reservation.latency"]
    assert (latency["type"], latency["value"], latency["unit"]) == ("distribution", 12.5, "millisecond")
    assert (metrics["stock.level"]["type"], metrics["stock.level"]["value"]) == ("gauge", 40)
    assert _attribute(metrics["stock.level"], "sku") == "SKU-1"
    assert {metric["trace_id"] for metric in metrics.values()} == {TRACE_ID}
    assert all(metric.get("span_id") for metric in metrics.values())


def test_a_slow_or_failed_reservation_is_logged_at_warning_or_error(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    telemetry.order_finished("o-slow", OrderOutcome.CONFIRMED, telemetry.SLOW_DOWNSTREAM_MS + 1)
    telemetry.order_finished("o-fast", OrderOutcome.CONFIRMED, 3)
    telemetry.order_finished("o-failed", OrderOutcome.FAILED, 3)
    sentry_sdk.flush()

    logged = [(log["level"], log["body"]) for log in _records(captured, "log")]
    assert logged == [
        ("warn", "downstream slow: reservation for order o-slow took 501.0 ms"),
        ("error", "downstream failed for order o-failed"),
    ]


def test_secrets_in_logs_and_metrics_are_scrubbed_like_in_events(sentry_init: SentryInit) -> None:
    captured = sentry_init()
    secret = "hunter2-very-secret"

    telemetry.log("info", "login by {user} with {password}", user="ada", password=secret)
    sentry_sdk.metrics.count("logins", 1, attributes={"api_token": secret, "user": "ada"})
    sentry_sdk.flush()

    (log,) = _records(captured, "log")
    (metric,) = _records(captured, "trace_metric")
    assert _attribute(log, "sentry.message.parameter.password") == "[Filtered]"
    assert log["body"] == "login by ada with [Filtered]"
    assert _attribute(metric, "api_token") == "[Filtered]"
    assert _attribute(metric, "user") == "ada"
    assert secret not in str(captured.envelopes[0].serialize()) + str(captured.envelopes[-1].serialize())


@pytest.mark.anyio
@pytest.mark.parametrize("lifecycle", LIFECYCLES)
async def test_with_sentry_disabled_no_log_metric_or_span_leaves(sentry_init: SentryInit, lifecycle: str) -> None:
    settings = make_settings(sentry_enabled=False, sentry_trace_lifecycle=lifecycle)
    captured = sentry_init(settings)

    await _serve_one(settings)
    sentry_sdk.get_client().close()

    assert [[item.type for item in envelope.items] for envelope in captured.envelopes] == []


@pytest.mark.anyio
async def test_in_stream_mode_the_request_leaves_as_spans_enriched_like_its_transaction(
    sentry_init: SentryInit,
) -> None:
    settings = make_settings(sentry_trace_lifecycle="stream")
    captured = sentry_init(settings)

    await _serve_one(settings)

    assert captured.transactions() == []
    spans = _records(captured, "span")
    (segment,) = [span for span in spans if span["is_segment"]]
    assert (segment["trace_id"], segment["parent_span_id"]) == (TRACE_ID, CALLER_SPAN)
    assert _attribute(segment, "http.route") == "/work"
    assert _attribute(segment, "http.status_code") == "200"
    assert _attribute(segment, "request_id")
    (inner,) = [span for span in spans if span["name"] == "inner work"]
    assert (inner["parent_span_id"], _attribute(inner, "sentry.op")) == (segment["span_id"], "db.work")
    stock_log = next(log for log in _records(captured, "log") if log["body"].startswith("stock reserved"))
    assert stock_log["span_id"] == inner["span_id"]


@pytest.mark.anyio
@pytest.mark.parametrize("lifecycle", LIFECYCLES)
async def test_every_log_and_metric_of_a_request_names_the_request_as_its_transaction_does(
    sentry_init: SentryInit, lifecycle: str
) -> None:
    # The verifier's correlation check ties records to their request by this id.
    settings = make_settings(sentry_trace_lifecycle=lifecycle)
    captured = sentry_init(settings)

    async with _app(settings) as client:
        response = await client.post("/work", headers={"x-request-id": "req-42"})
    sentry_sdk.flush()

    assert response.headers["x-request-id"] == "req-42"
    records = _records(captured, "log") + _records(captured, "trace_metric")
    assert {_attribute(record, "request_id") for record in records} == {"req-42"}
    if lifecycle == "stream":
        (segment,) = [span for span in _records(captured, "span") if span["is_segment"]]
        assert _attribute(segment, "request_id") == "req-42"
    else:
        assert captured.only_transaction()["tags"]["request_id"] == "req-42"
