"""No secret a request carries reaches what Sentry would store: the services' scrubbing
(servicekit/sentry.py) catches what Relay's own scrubbing would miss, wherever it travels.

A service (servicekit's real Sentry setup and middleware, the real SDK, over real HTTP to a
relay-mock) receives secrets in shapes Relay's default scrubbers do not recognise, through a
header, the query, a JSON body, a form body, a stack frame's locals, a breadcrumb and a log
line. relay-mock's leaks report (`/inspect/leaks`: what survives the SDK's hooks and Relay's
scrubbing) must be empty; with the service's scrubbing switched off it must show every one.
In stream mode (SENTRY_TRACE_LIFECYCLE=stream) the `span` items relay-mock stores must hold
none of the secrets only the services' scrubbing catches, and hold them all with it off.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import sentry_sdk
from fastapi import APIRouter, Request
from sqlalchemy import MetaData

from relay_mock.models import Leak
from relay_mock.relay_view.leaks import fingerprint
from servicekit.app import create_service_app
from servicekit.request_span import current_request_span
from servicekit.sentry import configure_sentry
from tests.relay_http.inspector import Inspector
from tests.relay_http.wire import API
from tests.servicekit.conftest import TEST_HOST, make_settings
from tests.support.polling import poll
from tests.support.relay_server import RelayMock
from tests.support.sentry_client import shut_down_sentry

pytestmark = pytest.mark.anyio

logger = logging.getLogger("tests.checkout")
logger.setLevel(logging.INFO)  # breadcrumbs record INFO and up (SENTRY_LOG_BREADCRUMB_LEVEL)


def _alnum(n: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


def canaries() -> dict[str, str]:
    """One secret per place, made at run time (stack traces quote this file's source), each in a
    well-known token format and under a name no scrubber recognises."""
    return {
        "header": "sk_live_" + _alnum(24),
        "query": "ghp_" + _alnum(36),
        "json": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOi" + _alnum(12) + "." + _alnum(43),
        "form": "xoxb-" + "-".join(_alnum(12) for _ in range(3)),
        "frame_local": "AKIA" + "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(16)),
        "breadcrumb": "sk_test_" + _alnum(24),
        "log": "github_pat_" + _alnum(40),
    }


# Where each secret must show in the stored event. The form body only in the frame's locals: the
# SDK reads form bodies only with python-multipart installed, and the services do not install it.
WHERE = {
    "header": "request.headers.X-Partner",
    "query": "request.query_string.ref",
    "json": "request.data.note",
    "form": ".vars.body",
    "frame_local": "vars.partner",
    "breadcrumb": "breadcrumbs.values.0.message",
    "log": "logentry.formatted",
}


class PartnerRefused(Exception):
    pass


def checkout_router(secret: dict[str, str]) -> APIRouter:
    router = APIRouter()

    @router.post("/checkout")
    async def checkout(request: Request) -> None:
        body = await request.body()
        partner = secret["frame_local"]  # a local variable of the failing frame
        logger.info("calling the partner with %s", secret["breadcrumb"])
        logger.error("the partner refused %s", secret["log"])
        raise PartnerRefused(f"refused after {len(body)} bytes ({len(partner)})")

    return router


@pytest.fixture
def service_to(relay: RelayMock) -> Iterator[Callable[..., Any]]:
    def configure(*, scrubbing: bool, **overrides: Any) -> Any:
        settings = make_settings(sentry_dsn=API.dsn(relay.url), sentry_scrubbing=scrubbing, **overrides)
        assert configure_sentry(settings)
        return settings

    try:
        yield configure
    finally:
        shut_down_sentry()


async def send_secrets_everywhere(settings: Any, secret: dict[str, str]) -> None:
    app = create_service_app(
        settings, title="t", description="t", metadata=MetaData(schema="t"), routers=[checkout_router(secret)]
    )
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url=f"http://{TEST_HOST}") as client:
        json_body = {"sku": "SKU-1", "note": secret["json"]}
        form_body = {"sku": "SKU-1", "webhook": secret["form"]}
        for body in (
            client.build_request("POST", "/checkout", json=json_body),
            client.build_request("POST", "/checkout", data=form_body),
        ):
            body.url = body.url.copy_merge_params({"ref": secret["query"]})
            body.headers["X-Partner"] = secret["header"]
            response = await client.send(body)
            assert response.status_code == 500
    sentry_sdk.flush(timeout=10)


def leaks_when_computed(inspector: Inspector) -> list[Leak] | None:
    """The leaks report, once every event and transaction stored has Relay's verdict."""
    stats = inspector.stats()
    items = sum(stats["items_by_type"].get(t, 0) for t in ("event", "transaction"))
    verdicts = sum(
        sum(counts[k] for k in ("ok", "repaired", "rejected", "failed"))
        for counts in stats["relay"]["by_project"].values()
    )
    if items == 0 or verdicts < items:
        return None
    return [leak for item in inspector.client.leaks().items for leak in item.leaks]


async def test_the_services_let_no_secret_reach_what_sentry_stores(
    service_to: Callable[..., Any], inspector: Inspector
) -> None:
    inspector.clear()
    secret = canaries()

    await send_secrets_everywhere(service_to(scrubbing=True), secret)

    leaks = poll(lambda: leaks_when_computed(inspector), deadline_s=30, what="Relay's verdicts")
    assert leaks == []


async def test_without_the_services_scrubbing_the_leaks_report_shows_every_secret(
    service_to: Callable[..., Any], inspector: Inspector
) -> None:
    inspector.clear()
    secret = canaries()

    await send_secrets_everywhere(service_to(scrubbing=False), secret)

    leaks = poll(lambda: leaks_when_computed(inspector), deadline_s=30, what="Relay's verdicts")
    paths: dict[str, set[str]] = {}
    for leak in leaks:
        paths.setdefault(leak.fingerprint or "", set()).add(leak.path)
    shown = {
        place: any(WHERE[place] in path for path in paths.get(fingerprint(value), set()))
        for place, value in secret.items()
    }
    assert shown == dict.fromkeys(secret, True), paths


# ---------------------------------------------------------------- streamed spans
# relay-mock's leaks report reads events and transactions; streamed spans are checked in what
# relay-mock stored, byte for byte. The SDK already leaves out the query and filters Authorization
# and Cookie in stream mode; these are the secrets only the services' scrubbing (before_send_span)
# keeps out of a span: a header named like a secret the SDK's list misses, token-shaped values
# under neutral names in a header and in an attribute our code sets.
STREAMED = {"named_header": "x-session-token", "shaped_header": "x-partner", "shaped_attribute": "partner.reference"}


def partner_router(secret: dict[str, str]) -> APIRouter:
    router = APIRouter()

    @router.get("/partner")
    async def partner() -> dict[str, str]:
        span = current_request_span()
        assert span is not None
        span.set_data(STREAMED["shaped_attribute"], secret["shaped_attribute"])
        return {"ok": "yes"}

    return router


async def stream_secrets(settings: Any, secret: dict[str, str], inspector: Inspector) -> str:
    """Send one request carrying the secrets; the text of every span item relay-mock stored."""
    app = create_service_app(
        settings, title="t", description="t", metadata=MetaData(schema="t"), routers=[partner_router(secret)]
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=f"http://{TEST_HOST}") as client:
        headers = {STREAMED["named_header"]: secret["named_header"], STREAMED["shaped_header"]: secret["shaped_header"]}
        response = await client.get("/partner", headers=headers)
        assert response.status_code == 200
    sentry_sdk.flush(timeout=10)

    def segment_stored() -> str | None:
        spans = [item for envelope in inspector.envelopes(type="span") for item in envelope["items"]]
        text = repr([item["payload"] for item in spans if item["type"] == "span"])
        return text if "'is_segment': True" in text else None

    return poll(segment_stored, deadline_s=30, what="the segment span stored")


def streamed_canaries() -> dict[str, str]:
    return {
        "named_header": _alnum(24),
        "shaped_header": "ghp_" + _alnum(36),
        "shaped_attribute": "sk_live_" + _alnum(24),
    }


@pytest.mark.parametrize("scrubbing", [True, False])
async def test_streamed_spans_reach_relay_without_the_secrets_only_the_services_catch(
    service_to: Callable[..., Any], inspector: Inspector, scrubbing: bool
) -> None:
    inspector.clear()
    secret = streamed_canaries()

    stored = await stream_secrets(service_to(scrubbing=scrubbing, sentry_trace_lifecycle="stream"), secret, inspector)

    leaked = [place for place, value in secret.items() if value in stored]
    assert leaked == ([] if scrubbing else list(secret))
