"""The services' middleware stack, driven in-process through the real `create_service_app`:
the tracing middleware enriches the one transaction Sentry starts per request, and the
security middleware (trusted hosts, signed sessions) sits in front of it."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
from typing import Any

import httpx
import pytest
import sentry_sdk
from fastapi import APIRouter, FastAPI, Request, Response
from itsdangerous import TimestampSigner
from sqlalchemy import MetaData

from servicekit.app import create_service_app
from servicekit.http_errors import Conflict
from servicekit.middleware import SentryTracingMiddleware, middleware_stack, span_status_for
from servicekit.settings import ServiceSettings
from tests.servicekit.conftest import TEST_HOST, SentryInit, make_settings

pytestmark = pytest.mark.anyio


def build_app(settings: ServiceSettings) -> FastAPI:
    router = APIRouter()

    @router.get("/items/{item_id}")
    async def read_item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    @router.get("/status/{code}")
    async def answer_with(code: int) -> Response:
        return Response(status_code=code)

    @router.get("/slow")
    async def slow() -> dict[str, bool]:
        await asyncio.sleep(0.05)
        return {"slow": True}

    @router.post("/login")
    async def login(request: Request, user: str) -> dict[str, str]:
        request.session["user_id"] = user
        return {"user": user}

    @router.get("/report")
    async def report() -> dict[str, str | None]:
        return {"event_id": sentry_sdk.capture_message("reported from the endpoint")}

    @router.get("/conflict")
    async def conflict() -> None:
        raise Conflict("already taken")

    @router.get("/crash")
    async def crash() -> None:
        raise RuntimeError("nobody handles this")

    return create_service_app(settings, title="t", description="t", metadata=MetaData(schema="t"), routers=[router])


def client_for(app: FastAPI) -> httpx.AsyncClient:
    # raise_app_exceptions=False: answer like a server does when the app raises (Starlette re-raises after its 500).
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    return httpx.AsyncClient(transport=transport, base_url=f"http://{TEST_HOST}")


async def request(settings: ServiceSettings, method: str, path: str, **kwargs: Any) -> httpx.Response:
    async with client_for(build_app(settings)) as client:
        return await client.request(method, path, **kwargs)


async def test_each_request_makes_exactly_one_transaction_named_after_its_route(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    response = await request(make_settings(), "GET", "/items/42")

    assert response.status_code == 200
    root = captured.only_root()
    assert root.name == "/items/{item_id}"
    assert root.op == "http.server"


async def test_a_request_continues_the_callers_trace(sentry_init: SentryInit) -> None:
    captured = sentry_init()
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)

    await request(make_settings(), "GET", "/items/1", headers={"sentry-trace": f"{trace_id}-{caller_span}-1"})

    root = captured.only_root()
    assert (root.trace_id, root.parent_span_id) == (trace_id, caller_span)


@pytest.mark.parametrize(("sample_rand", "sent"), [("0.1", 1), ("0.6", 0)])
async def test_a_callers_sample_rate_stays_in_the_dsc_and_its_decision_holds(
    sentry_init: SentryInit, sample_rand: str, sent: int
) -> None:
    # The traces sampler follows the caller; answering 1.0 instead of the caller's rate would
    # make the SDK rewrite the DSC the head froze.
    captured = sentry_init(sentry_traces_sample_rate=1.0)
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    flag = "1" if sent else "0"
    decision = "true" if sent else "false"
    baggage = (
        f"sentry-trace_id={trace_id},sentry-sample_rate=0.25,sentry-sample_rand={sample_rand},sentry-sampled={decision}"
    )

    response = await request(
        make_settings(),
        "GET",
        "/items/1",
        headers={"sentry-trace": f"{trace_id}-{caller_span}-{flag}", "baggage": baggage},
    )

    assert len(captured.roots()) == sent
    assert "sentry-sample_rate=0.25" in response.headers["baggage"].split(",")
    if sent:
        # The envelope of the transaction (2.x) or of the segment span (3.x, or spans streamed).
        [envelope] = [e for e in captured.envelopes if {i.type for i in e.items} & {"transaction", "span"}]
        assert envelope.headers["trace"]["sample_rate"] == "0.25"


async def test_a_malformed_sentry_trace_starts_a_new_trace_and_is_tagged_malformed(sentry_init: SentryInit) -> None:
    captured = sentry_init()
    trace_id = secrets.token_hex(16)

    await request(make_settings(), "GET", "/items/1", headers={"sentry-trace": f"{trace_id.upper()}-{'AB' * 8}-1"})

    root = captured.only_root()
    assert root.trace_id != trace_id
    assert root.parent_span_id is None
    assert root.tags["trace.incoming"] == "malformed"


async def test_the_transaction_is_tagged_with_method_route_and_url(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    await request(make_settings(), "GET", "/items/42?page=2")

    tags = captured.only_root().tags
    assert (tags["http.method"], tags["http.route"], tags["http.url"]) == ("GET", "/items/{item_id}", "/items/42")


async def test_the_callers_request_id_tags_the_transaction_and_comes_back(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    response = await request(make_settings(), "GET", "/items/1", headers={"x-request-id": "req-123"})

    assert response.headers["x-request-id"] == "req-123"
    assert captured.only_root().tags["request_id"] == "req-123"


async def test_a_request_without_an_id_gets_one_and_it_tags_errors_too(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    response = await request(make_settings(), "GET", "/report")

    request_id = response.headers["x-request-id"]
    assert len(request_id) == 32
    assert captured.only_root().tags["request_id"] == request_id
    assert captured.events()[0]["tags"]["request_id"] == request_id


async def test_x_user_id_names_the_user_of_the_transaction_and_its_errors(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    await request(make_settings(), "GET", "/report", headers={"x-user-id": "u-42"})

    root = captured.only_root()
    assert root.tags["user.id"] == "u-42"
    assert root.user == {"id": "u-42"}
    assert captured.events()[0]["user"] == {"id": "u-42"}


async def test_the_session_user_names_the_user_of_the_transaction_and_its_errors(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    async with client_for(build_app(make_settings())) as client:
        await client.post("/login", params={"user": "u-session"})
        await client.get("/report")  # the session cookie travels in the client's jar

    login, report = captured.roots()
    assert login.tags["user.id"] == "u-session", "a login during the request names the user too"
    assert report.tags["user.id"] == "u-session"
    assert captured.events()[0]["user"] == {"id": "u-session"}


async def test_response_time_is_recorded_as_a_measurement(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    await request(make_settings(), "GET", "/slow")

    measurement = captured.only_root().measurements["response_time"]
    assert measurement["unit"] == "millisecond"
    assert 50 <= measurement["value"] < 5000


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (200, "ok"),
        (204, "ok"),
        (400, "invalid_argument"),
        (404, "not_found"),
        (408, "deadline_exceeded"),
        (409, "already_exists"),
        (429, "resource_exhausted"),
        (499, "cancelled"),
        (500, "internal_error"),
        (502, "internal_error"),
        (503, "unavailable"),
        (504, "deadline_exceeded"),
    ],
)
async def test_the_transaction_status_follows_the_http_status(sentry_init: SentryInit, code: int, status: str) -> None:
    captured = sentry_init()

    response = await request(make_settings(), "GET", f"/status/{code}")

    assert response.status_code == code
    root = captured.only_root()
    assert root.status == status
    assert root.tags["http.status_code"] == str(code)


@pytest.mark.parametrize(("path", "code"), [("/items/1", 200), ("/nowhere", 404), ("/conflict", 409), ("/crash", 500)])
async def test_every_response_carries_the_trace_headers_of_the_transaction_that_served_it(
    sentry_init: SentryInit, path: str, code: int
) -> None:
    captured = sentry_init()

    response = await request(make_settings(), "GET", path)

    assert response.status_code == code
    root = captured.only_root()
    assert response.headers["sentry-trace"] == f"{root.trace_id}-{root.span_id}-1"
    assert f"sentry-trace_id={root.trace_id}" in response.headers["baggage"].split(",")


async def test_an_unhandled_exception_answers_json_500_and_is_reported_once(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    response = await request(make_settings(), "GET", "/crash")

    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "internal_error"
    assert body["request_id"] == response.headers["x-request-id"]
    (event,) = captured.events()
    assert event["exception"]["values"][-1]["type"] == "RuntimeError"
    assert event["contexts"]["trace"]["trace_id"] == captured.only_root().trace_id


async def test_health_probes_are_not_traced(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    response = await request(make_settings(), "GET", "/health/sentry")

    assert response.status_code == 200
    assert captured.roots() == []


@pytest.mark.parametrize(
    ("sentry_active", "sentry_enabled", "installed"),
    [(True, True, True), (True, False, False), (False, True, False)],
)
def test_the_tracing_middleware_is_installed_only_when_sentry_is_on(
    sentry_active: bool, sentry_enabled: bool, installed: bool
) -> None:
    stack = middleware_stack(make_settings(sentry_enabled=sentry_enabled), sentry_active=sentry_active)

    classes: list[object] = [middleware.cls for middleware in stack]
    assert (SentryTracingMiddleware in classes) is installed


@pytest.mark.parametrize(
    ("code", "status"),
    [
        (101, "ok"),
        (302, "ok"),
        (401, "unauthenticated"),
        (403, "permission_denied"),
        (413, "failed_precondition"),
        (418, "invalid_argument"),
        (501, "unimplemented"),
        (599, "internal_error"),
        (600, "unknown_error"),
    ],
)
def test_span_status_for_maps_every_http_code_to_a_sentry_status(code: int, status: str) -> None:
    assert span_status_for(code) == status


async def test_a_host_outside_allowed_hosts_is_refused_with_400(sentry_init: SentryInit) -> None:
    sentry_init()
    settings = make_settings(allowed_hosts="shop.example,api")

    allowed = await request(settings, "GET", "/items/1", headers={"host": "shop.example"})
    refused = await request(settings, "GET", "/items/1", headers={"host": "evil.example"})

    assert allowed.status_code == 200
    assert refused.status_code == 400
    assert refused.text == "Invalid host header"


@pytest.mark.parametrize(("signed_by", "accepted"), [("the service", True), ("someone else", False)])
async def test_only_a_session_cookie_signed_with_session_secret_is_accepted(
    sentry_init: SentryInit, signed_by: str, accepted: bool
) -> None:
    captured = sentry_init()
    secret = secrets.token_hex(16)
    signer = TimestampSigner(secret if signed_by == "the service" else "someone-elses-secret")
    cookie = signer.sign(base64.b64encode(json.dumps({"user_id": "mallory"}).encode())).decode()

    await request(make_settings(session_secret=secret), "GET", "/report", headers={"cookie": f"session={cookie}"})

    assert (captured.only_root().tags.get("user.id") == "mallory") is accepted


async def test_in_production_the_session_cookie_is_https_only(sentry_init: SentryInit) -> None:
    sentry_init()
    settings = make_settings(environment="production", session_secret=secrets.token_hex(16))

    response = await request(settings, "POST", "/login", params={"user": "u-1"})

    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("session=")
    assert "secure" in cookie
    assert "httponly" in cookie
