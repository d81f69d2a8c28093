"""What happens when a service process starts: bad settings stop it with a message naming
the variable, schema creation is idempotent and safe to race, the per-service fault
switches apply, and the event loop reports background errors to Sentry."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from contextlib import ExitStack

import httpx
import pytest
from sqlalchemy import inspect

from downstream.models import Base as DownstreamBase
from servicekit import db
from servicekit.settings import ServiceSettings, load_settings
from tests.support.database import fresh_database
from tests.support.relay import StackRelay
from tests.support.services import run_to_exit, running_service, service_env
from tests.support.stack import Stack
from tests.support.traffic import TIMER_SLACK_S, duration_s, spans_by_op


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"SENTRY_DSN": "not-a-dsn", "SENTRY_TRACES_SAMPLE_RATE": "1.5"}, ["SENTRY_DSN", "SENTRY_TRACES_SAMPLE_RATE"]),
        ({"ENVIRONMENT": "production"}, ["SESSION_SECRET"]),
    ],
)
def test_invalid_settings_stop_the_process_with_a_message_naming_the_variable(
    settings: dict[str, str], named: list[str]
) -> None:
    result = run_to_exit("api", settings)

    assert result.returncode != 0
    for variable in named:
        assert f"  {variable}: " in result.stderr, result.stderr
    assert "Traceback" not in result.stderr, "a refused start reads as a message, not a crash"


@pytest.mark.stack
def test_a_service_starts_twice_in_a_row_on_the_same_database(stack: Stack) -> None:
    with fresh_database(stack) as database_url:
        env = service_env(stack, "api", DATABASE_URL=database_url)
        for _ in range(2):
            with running_service("api", env) as api:
                # The orders table exists: reading a missing order is a 404, not a 500.
                assert httpx.get(f"{api.url}/orders/{uuid.uuid4()}", timeout=10).status_code == 404


@pytest.mark.stack
def test_services_starting_together_on_an_empty_database_all_come_up(stack: Stack) -> None:
    with fresh_database(stack) as database_url, ExitStack() as processes:
        env = service_env(stack, "downstream", DATABASE_URL=database_url)
        started = [processes.enter_context(running_service("downstream", env, wait=False)) for _ in range(3)]
        for service in started:
            service.wait_healthy()
        stock = httpx.get(f"{started[0].url}/stock/SKU-1", timeout=10)
        assert stock.status_code == 200, stock.text


@pytest.mark.stack
def test_concurrent_schema_creation_is_serialised_not_retried(stack: Stack, caplog: pytest.LogCaptureFixture) -> None:
    async def create_concurrently(database_url: str) -> list[str]:
        engines = [db.create_engine(load_settings(ServiceSettings, database_url=database_url)) for _ in range(6)]
        try:
            await asyncio.gather(*(db.create_schema(engine, DownstreamBase.metadata) for engine in engines))
            async with engines[0].connect() as conn:
                return await conn.run_sync(lambda sync: inspect(sync).get_table_names(schema="inventory"))
        finally:
            await asyncio.gather(*(engine.dispose() for engine in engines))

    with fresh_database(stack) as database_url, caplog.at_level(logging.WARNING, logger="servicekit.db"):
        assert sorted(asyncio.run(create_concurrently(database_url))) == ["reservations", "stock"]

    # A lost race would surface as a DDL error the start-up retry absorbs: there must be none.
    assert [record.getMessage() for record in caplog.records] == []


@pytest.mark.stack
def test_fault_error_rate_one_fails_every_business_request(stack: Stack, relay: StackRelay) -> None:
    with running_service("downstream", service_env(stack, "downstream", FAULT_ERROR_RATE="1.0")) as downstream:
        failed = httpx.get(f"{downstream.url}/stock/SKU-1", timeout=10)
        health = httpx.get(f"{downstream.url}/health", timeout=10)
        relay.wait("event", release=downstream.release)

    assert failed.status_code == 500
    assert health.status_code == 200, "probes are not business requests"
    (event,) = relay.payloads("event", release=downstream.release)
    assert event["exception"]["values"][-1]["type"] == "InjectedFault"


@pytest.mark.stack
def test_fault_latency_ms_slows_every_business_request(stack: Stack, relay: StackRelay) -> None:
    with running_service("api", service_env(stack, "api", FAULT_LATENCY_MS="300")) as api:
        started = time.monotonic()
        response = httpx.get(f"{api.url}/orders/{uuid.uuid4()}", timeout=10)
        elapsed = time.monotonic() - started
        relay.wait("transaction", release=api.release)

    assert response.status_code == 404
    assert elapsed >= 0.3
    (transaction,) = relay.payloads("transaction", release=api.release)
    (latency,) = spans_by_op(transaction)["fault.latency"]
    assert duration_s(latency) >= 0.3 - TIMER_SLACK_S


@pytest.mark.stack
@pytest.mark.parametrize("service", ["api", "downstream"])
def test_a_running_service_has_its_event_loop_instrumented_for_sentry(stack: Stack, service: str) -> None:
    url = stack.api_url if service == "api" else stack.downstream_url

    report = httpx.get(f"{url}/health/sentry", timeout=10).json()

    assert report["sdk_active"] is True
    assert report["asyncio_loop_instrumented"] is True
