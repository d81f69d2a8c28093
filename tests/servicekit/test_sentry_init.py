"""`configure_sentry`: the one `sentry_sdk.init` of the services, its options from settings,
its explicit integrations, and the kill switch."""

from __future__ import annotations

import asyncio
import gc
import logging
import secrets
import threading
from collections.abc import Iterator

import httpx
import pytest
import sentry_sdk
from fastapi import APIRouter
from sentry_sdk.profiler.continuous_profiler import get_profiler_id
from sqlalchemy import MetaData, text

from servicekit import db
from servicekit import sentry as sentry_setup
from servicekit.app import create_service_app
from servicekit.sentry import instrument_event_loop, loop_is_instrumented, profiler_may_deadlock
from servicekit.settings import ServiceSettings
from tests.servicekit.conftest import TEST_HOST, SentryInit, continue_root, make_settings, start_root
from tests.support.polling import poll
from tests.support.stack import Stack

PROFILER_THREAD = "sentry.profiler.ThreadContinuousScheduler"


@pytest.fixture
def gc_paused_while_profiling() -> Iterator[None]:
    """Keep the garbage collector off until the SDK's profiler thread has stopped.

    On CPython before 3.11.9 a collection inside the profiler's `sys._current_frames()`
    can deadlock the whole process (python/cpython#106883); request this fixture before
    `sentry_init` so it outlives the SDK client.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        poll(
            lambda: None if any(t.name == PROFILER_THREAD for t in threading.enumerate()) else True,
            deadline_s=10,
            interval_s=0.05,
            what="the profiler thread to stop",
        )
        if was_enabled:
            gc.enable()


def test_events_carry_release_environment_and_server_name_from_settings(sentry_init: SentryInit) -> None:
    captured = sentry_init(service_name="orders", app_version="4.5.6", environment="staging")

    sentry_sdk.capture_message("hello")

    (event,) = captured.events()
    assert event["release"] == "orders@4.5.6"
    assert event["environment"] == "staging"
    assert event["server_name"] == "orders"


def test_sentry_server_name_overrides_the_service_name(sentry_init: SentryInit) -> None:
    captured = sentry_init(sentry_server_name="host-7")

    sentry_sdk.capture_message("hello")

    assert captured.events()[0]["server_name"] == "host-7"


@pytest.mark.parametrize("attach", [True, False])
def test_messages_carry_a_stack_trace_as_sentry_attach_stacktrace_says(sentry_init: SentryInit, attach: bool) -> None:
    captured = sentry_init(sentry_attach_stacktrace=attach)

    sentry_sdk.capture_message("where am I")

    threads = captured.events()[0].get("threads", {}).get("values", [])
    has_stacktrace = any(thread.get("stacktrace", {}).get("frames") for thread in threads)
    assert has_stacktrace is attach


@pytest.mark.parametrize(("rate", "sent"), [(0.0, 0), (1.0, 1)])
def test_sentry_traces_sample_rate_decides_whether_a_transaction_is_sent(
    sentry_init: SentryInit, rate: float, sent: int
) -> None:
    captured = sentry_init(sentry_traces_sample_rate=rate)

    with start_root("work", "task"):
        pass

    assert len(captured.roots()) == sent


def test_a_callers_sampling_decision_overrides_the_rate(sentry_init: SentryInit) -> None:
    captured = sentry_init(sentry_traces_sample_rate=0.0)
    trace_id = secrets.token_hex(16)

    with continue_root({"sentry-trace": f"{trace_id}-{secrets.token_hex(8)}-1"}, name="work"):
        pass

    assert captured.only_root().trace_id == trace_id


def test_the_profiling_session_sample_rate_comes_from_settings(sentry_init: SentryInit) -> None:
    sentry_init(sentry_profile_session_sample_rate=0.25)

    options = sentry_sdk.get_client().options
    assert options["profile_session_sample_rate"] == 0.25
    assert options["profile_lifecycle"] == "trace"
    assert options.get("profiles_sample_rate") is None


def test_the_deprecated_profiles_sample_rate_maps_onto_the_session_rate_with_a_warning(
    sentry_init: SentryInit, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="servicekit.sentry"):
        sentry_init(sentry_profiles_sample_rate=0.5)

    assert sentry_sdk.get_client().options["profile_session_sample_rate"] == 0.5
    assert any("SENTRY_PROFILES_SAMPLE_RATE is deprecated" in record.getMessage() for record in caplog.records)


@pytest.mark.parametrize(
    ("version", "affected"),
    [
        ((3, 11, 2), True),
        ((3, 11, 8), True),
        ((3, 11, 9), False),
        ((3, 12, 2), True),
        ((3, 12, 3), False),
        ((3, 13, 0), False),
    ],
)
def test_pythons_whose_profiler_can_deadlock_are_recognised(version: tuple[int, int, int], affected: bool) -> None:
    assert profiler_may_deadlock(version) is affected


@pytest.mark.parametrize(("rate", "warned"), [(0.5, True), (0.0, False)])
def test_profiling_on_an_affected_python_is_warned_about_at_start(
    sentry_init: SentryInit,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    rate: float,
    warned: bool,
) -> None:
    monkeypatch.setattr(sentry_setup, "profiler_may_deadlock", lambda: True)

    with caplog.at_level(logging.WARNING, logger="servicekit.sentry"):
        sentry_init(sentry_profile_session_sample_rate=rate)

    assert any("gh-106883" in record.getMessage() for record in caplog.records) is warned


def test_profiles_are_sent_for_sampled_transactions_at_session_rate_one(
    gc_paused_while_profiling: None, sentry_init: SentryInit
) -> None:
    captured = sentry_init(sentry_profile_session_sample_rate=1.0)

    with start_root("profiled", "task"):
        sum(i * i for i in range(200_000))

    profiler_id = captured.only_root().profiler_id
    assert profiler_id, "the transaction is not linked to a profile"
    # The profiler thread sends its chunk when it notices the transaction ended.
    chunks = poll(lambda: captured.items("profile_chunk") or None, deadline_s=10, interval_s=0.05, what="a chunk")
    assert [chunk["profiler_id"] for chunk in chunks] == [profiler_id]


def test_the_integrations_are_exactly_the_listed_ones_so_asyncpg_and_flask_stay_off(sentry_init: SentryInit) -> None:
    # asyncpg and Flask are both installed here; auto-enabling would add their integrations.
    sentry_init()

    integrations = set(sentry_sdk.get_client().integrations)
    assert {"starlette", "fastapi", "sqlalchemy", "asyncio", "logging", "httpx"} <= integrations
    assert "asyncpg" not in integrations
    assert "flask" not in integrations


def _app_for(settings: ServiceSettings) -> httpx.AsyncClient:
    router = APIRouter()

    @router.get("/work")
    async def work() -> dict[str, str]:
        sentry_sdk.capture_message("inside a request")
        return {"done": "yes"}

    app = create_service_app(settings, title="t", description="t", metadata=MetaData(schema="t"), routers=[router])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=f"http://{TEST_HOST}")


async def _traffic(settings: ServiceSettings) -> None:
    async with _app_for(settings) as client:
        for _ in range(3):
            assert (await client.get("/work")).status_code == 200
    sentry_sdk.capture_exception(RuntimeError("outside a request"))
    with start_root("background", "task"):
        pass
    sentry_sdk.get_client().close()  # flushes release-health sessions


@pytest.mark.anyio
async def test_with_sentry_disabled_nothing_at_all_is_sent(
    gc_paused_while_profiling: None, sentry_init: SentryInit
) -> None:
    settings = make_settings(sentry_enabled=False, sentry_profile_session_sample_rate=1.0)
    captured = sentry_init(settings)

    await _traffic(settings)

    assert [[item.type for item in envelope.items] for envelope in captured.envelopes] == []


@pytest.mark.parametrize(("enabled", "profiled"), [(True, True), (False, False)])
def test_the_profiler_runs_only_while_sentry_is_enabled(
    gc_paused_while_profiling: None, sentry_init: SentryInit, enabled: bool, profiled: bool
) -> None:
    # Profile chunks bypass the before_send hooks, so the kill switch must keep the profiler off.
    sentry_init(sentry_enabled=enabled, sentry_profile_session_sample_rate=1.0)

    with start_root("maybe profiled", "task"):
        profiler_id = get_profiler_id()

    assert (profiler_id is not None) is profiled


@pytest.mark.anyio
async def test_with_sentry_enabled_the_same_traffic_is_reported(sentry_init: SentryInit) -> None:
    settings = make_settings()
    captured = sentry_init(settings)

    await _traffic(settings)

    assert len(captured.events()) == 4
    assert len(captured.roots()) == 4
    assert captured.items("sessions"), "request sessions are missing"


@pytest.mark.stack
@pytest.mark.anyio
async def test_one_sql_query_makes_exactly_one_db_span(sentry_init: SentryInit, stack: Stack) -> None:
    settings = make_settings(database_url=stack.database_url)
    captured = sentry_init(settings)
    engine = db.create_engine(settings)
    try:
        with start_root("one query", "task"):
            async with engine.connect() as conn:
                await conn.execute(text("SELECT 42"))
    finally:
        await engine.dispose()

    spans = [span for span in captured.only_transaction()["spans"] if span["op"].startswith("db")]
    assert [span["description"] for span in spans] == ["SELECT 42"]


class BackgroundFailure(RuntimeError):
    pass


async def _fail_in_a_background_task() -> None:
    async def fail() -> None:
        raise BackgroundFailure("nobody awaits me")

    task = asyncio.create_task(fail())
    await asyncio.wait([task])
    assert isinstance(task.exception(), BackgroundFailure)


def test_an_instrumented_event_loop_reports_errors_of_background_tasks(sentry_init: SentryInit) -> None:
    # configure_sentry runs before any loop exists, as in the services; asyncio.run gives
    # each test a fresh loop, so the patch does not outlive it.
    captured = sentry_init()

    async def main() -> None:
        await _fail_in_a_background_task()
        assert captured.events() == [], "an uninstrumented loop reports nothing"
        assert instrument_event_loop()
        await _fail_in_a_background_task()

    asyncio.run(main())

    (event,) = captured.events()
    exception = event["exception"]["values"][-1]
    assert (exception["type"], exception["mechanism"]["type"]) == ("BackgroundFailure", "asyncio")


@pytest.mark.stack
def test_the_service_lifespan_instruments_its_event_loop(sentry_init: SentryInit, stack: Stack) -> None:
    settings = make_settings(database_url=stack.database_url)
    sentry_init(settings)
    app = create_service_app(
        settings, title="t", description="t", metadata=MetaData(schema="servicekit_test"), routers=[]
    )

    async def main() -> bool:
        async with app.router.lifespan_context(app):
            return loop_is_instrumented()

    assert asyncio.run(main())
