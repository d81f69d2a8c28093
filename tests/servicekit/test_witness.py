"""Witnessed propagation: every service answers with the sentry-trace it received, followed by
what the services it called said they received; malformed witnesses prove nothing."""

from __future__ import annotations

import json

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from sqlalchemy import MetaData

from servicekit.app import create_service_app
from servicekit.witness import WITNESS_HEADER, parse_witnesses, record_witnesses
from tests.servicekit.conftest import TEST_HOST, SentryInit, make_settings

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
        {"service": "outer", "received": TRACE, "sampled": None},  # Sentry off: no transaction
        {"service": "inner", "received": forwarded, "sampled": None},
    ]


async def test_a_request_without_trace_headers_is_witnessed_as_empty() -> None:
    async with _client(_inner()) as client:
        response = await client.get("/leaf")

    assert json.loads(response.headers[WITNESS_HEADER]) == [{"service": "inner", "received": "", "sampled": None}]


async def test_an_error_response_is_witnessed_too() -> None:
    async with _client(_inner()) as client:
        response = await client.get("/no-such-route", headers={"sentry-trace": TRACE})

    assert response.status_code == 404
    assert json.loads(response.headers[WITNESS_HEADER]) == [{"service": "inner", "received": TRACE, "sampled": None}]


@pytest.mark.parametrize(
    "value", [None, "", "not json", '{"service": "x"}', '[{"service": 1, "received": "x"}]', '[{"service": "x"}]']
)
def test_a_malformed_witness_header_yields_nothing(value: str | None) -> None:
    assert parse_witnesses(value) == []


def test_recording_outside_a_request_is_a_no_op() -> None:
    record_witnesses({WITNESS_HEADER: json.dumps([{"service": "x", "received": TRACE}])})  # nothing to add it to


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
