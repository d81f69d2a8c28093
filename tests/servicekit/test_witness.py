"""Witnessed propagation: every service answers with the sentry-trace (and W3C traceparent) it
received and the trace its own span joined, followed by what the services it called said they
received; malformed witnesses prove nothing."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import MetaData

from servicekit.app import create_service_app
from servicekit.witness import WITNESS_HEADER, parse_witnesses, record_witnesses
from tests.servicekit.conftest import TEST_HOST, SentryInit, make_settings
from tests.support.sdk_major import LIFECYCLES

pytestmark = pytest.mark.anyio

TRACE = "0123456789abcdef0123456789abcdef-89abcdef01234567-1"


def _client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=f"http://{TEST_HOST}")


def _inner() -> FastAPI:
    router = APIRouter()

    @router.get("/leaf")
    async def leaf() -> dict[str, bool]:
        return {"ok": True}

    settings = make_settings(service_name="inner", sentry_dsn=None)
    return create_service_app(settings, title="t", description="t", metadata=MetaData(schema="t"), routers=[router])


def _outer(inner: FastAPI, forwarded: str) -> FastAPI:
    router = APIRouter()

    @router.get("/chain")
    async def chain(request: Request) -> dict[str, int]:
        async with _client(inner) as client:
            response = await client.get("/leaf", headers={"sentry-trace": forwarded})
        record_witnesses(response.headers)
        return {"status": response.status_code}

    settings = make_settings(service_name="outer", sentry_dsn=None)
    return create_service_app(settings, title="t", description="t", metadata=MetaData(schema="t"), routers=[router])


async def test_a_service_answers_with_what_it_and_the_services_it_called_received() -> None:
    forwarded = "0123456789abcdef0123456789abcdef-fedcba9876543210-1"
    async with _client(_outer(_inner(), forwarded)) as client:
        response = await client.get("/chain", headers={"sentry-trace": TRACE})

    assert response.status_code == 200
    assert json.loads(response.headers[WITNESS_HEADER]) == [
        # Sentry off: no transaction, so no sampling decision and no trace of its own
        {"service": "outer", "received": TRACE, "sampled": None, "traceparent": "", "trace_id": None},
        {"service": "inner", "received": forwarded, "sampled": None, "traceparent": "", "trace_id": None},
    ]


async def test_a_request_without_trace_headers_is_witnessed_as_empty() -> None:
    async with _client(_inner()) as client:
        response = await client.get("/leaf")

    assert json.loads(response.headers[WITNESS_HEADER]) == [
        {"service": "inner", "received": "", "sampled": None, "traceparent": "", "trace_id": None}
    ]


async def test_an_error_response_is_witnessed_too() -> None:
    async with _client(_inner()) as client:
        response = await client.get("/no-such-route", headers={"sentry-trace": TRACE})

    assert response.status_code == 404
    assert json.loads(response.headers[WITNESS_HEADER]) == [
        {"service": "inner", "received": TRACE, "sampled": None, "traceparent": "", "trace_id": None}
    ]


@pytest.mark.parametrize(
    "value", [None, "", "not json", '{"service": "x"}', '[{"service": 1, "received": "x"}]', '[{"service": "x"}]']
)
def test_a_malformed_witness_header_yields_nothing(value: str | None) -> None:
    assert parse_witnesses(value) == []


async def test_a_witness_recorded_outside_a_request_reaches_no_response() -> None:
    # Nothing to add it to: it must not linger and ride on a later request's answer.
    record_witnesses({WITNESS_HEADER: json.dumps([{"service": "x", "received": TRACE}])})
    async with _client(_inner()) as client:
        response = await client.get("/leaf")

    assert [w["service"] for w in json.loads(response.headers[WITNESS_HEADER])] == ["inner"]


async def test_the_witness_carries_the_services_own_sampling_decision(sentry_init: SentryInit) -> None:
    sentry_init()
    unsampled = "0123456789abcdef0123456789abcdef-89abcdef01234567-0"
    async with _client(_inner_with_sentry()) as client:
        kept = await client.get("/leaf", headers={"sentry-trace": TRACE})
        dropped = await client.get("/leaf", headers={"sentry-trace": unsampled})

    assert json.loads(kept.headers[WITNESS_HEADER])[0]["sampled"] is True
    assert json.loads(dropped.headers[WITNESS_HEADER])[0]["sampled"] is False


def _inner_with_sentry() -> FastAPI:
    router = APIRouter()

    @router.get("/leaf")
    async def leaf() -> dict[str, bool]:
        return {"ok": True}

    settings = make_settings(service_name="inner")
    return create_service_app(settings, title="t", description="t", metadata=MetaData(schema="t"), routers=[router])


TRACEPARENT = "00-fedcba9876543210fedcba9876543210-0011223344556677-01"


@pytest.mark.parametrize("lifecycle", LIFECYCLES)
async def test_the_witness_names_the_trace_the_services_own_span_joined(
    sentry_init: SentryInit, lifecycle: str
) -> None:
    sentry_init(sentry_trace_lifecycle=lifecycle)
    async with _client(_inner_with_sentry()) as client:
        continued = await client.get("/leaf", headers={"sentry-trace": TRACE})
        started = await client.get("/leaf")

    own = json.loads(continued.headers[WITNESS_HEADER])[0]
    assert own["received"] == TRACE and own["traceparent"] == ""
    assert own["trace_id"] == TRACE.split("-")[0]  # it continued the caller's trace
    fresh = json.loads(started.headers[WITNESS_HEADER])[0]
    assert isinstance(fresh["trace_id"], str) and len(fresh["trace_id"]) == 32
    assert fresh["trace_id"] != own["trace_id"]


async def test_a_sentry_service_witnesses_a_traceparent_it_did_not_continue(sentry_init: SentryInit) -> None:
    """sentry-sdk reads `sentry-trace` only: a W3C-only caller's trace splits, and the witness
    shows it (what came in, and the different trace the service's transaction joined)."""
    sentry_init()
    async with _client(_inner_with_sentry()) as client:
        response = await client.get("/leaf", headers={"traceparent": TRACEPARENT, "tracestate": "k=v"})

    own = json.loads(response.headers[WITNESS_HEADER])[0]
    assert own["received"] == "" and own["traceparent"] == TRACEPARENT
    assert own["trace_id"] is not None and own["trace_id"] != TRACEPARENT.split("-")[1]


def test_parsing_keeps_the_traceparent_and_trace_id_of_each_entry() -> None:
    entries = [
        {"service": "api", "received": TRACE, "sampled": True, "traceparent": "", "trace_id": "ab" * 16},
        {"service": "catalog", "received": "", "sampled": None, "traceparent": TRACEPARENT, "trace_id": None},
        {"service": "old", "received": TRACE, "sampled": True},  # a service from before these keys
        {"service": "odd", "received": TRACE, "sampled": True, "traceparent": 7, "trace_id": 7},
    ]

    assert parse_witnesses(json.dumps(entries)) == [
        entries[0],
        entries[1],
        {"service": "old", "received": TRACE, "sampled": True},
        {"service": "odd", "received": TRACE, "sampled": True},  # malformed keys dropped, the entry kept
    ]


async def test_the_witnesses_of_called_services_keep_their_new_keys() -> None:
    """What the callee said, traceparent and trace id included, reaches the caller's caller."""
    called = [
        {"service": "catalog", "received": "", "sampled": True, "traceparent": TRACEPARENT, "trace_id": "cd" * 16}
    ]
    router = APIRouter()

    @router.get("/relay")
    async def relay() -> dict[str, bool]:
        record_witnesses({WITNESS_HEADER: json.dumps(called)})
        return {"ok": True}

    settings = make_settings(service_name="outer", sentry_dsn=None)
    app = create_service_app(settings, title="t", description="t", metadata=MetaData(schema="t"), routers=[router])
    async with _client(app) as client:
        response = await client.get("/relay")

    assert json.loads(response.headers[WITNESS_HEADER])[1:] == called
