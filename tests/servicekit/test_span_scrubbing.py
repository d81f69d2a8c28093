"""Streamed spans (SENTRY_TRACE_LIFECYCLE=stream) leave scrubbed like transactions: the secrets a
request carries (its query, its credentials, headers named or shaped like secrets, a token-shaped
value our code records under a neutral name, the query of an outgoing call) appear in no `span`
item the SDK sends. With SENTRY_SCRUBBING=false (the leak tests' off switch) the ones only the
services' scrubbing catches do, so the check looks where the secrets travel."""

from __future__ import annotations

import copy
import secrets
from typing import Any

import httpx
import pytest
import sentry_sdk
from fastapi import APIRouter
from sqlalchemy import MetaData

from servicekit.app import create_service_app
from servicekit.request_span import current_request_span
from servicekit.sentry import FILTERED, configure_sentry, scrub_span
from servicekit.settings import ServiceSettings
from tests.servicekit.conftest import TEST_HOST, Captured, CapturingTransport, SentryInit, make_settings, start_root
from tests.support.sdk_major import SPANS_ONLY, sdk2_only
from tests.support.sentry_client import shut_down_sentry

PARTNER_URL = "http://partner.example/quote"


def _canaries() -> dict[str, str]:
    """Made at run time: stack traces quote this file's source, which must not hold them."""
    return {
        "query_token": secrets.token_hex(12),
        "query_api_key": secrets.token_hex(12),
        "bearer": secrets.token_hex(12),
        "session": secrets.token_hex(12),
        "outgoing_token": secrets.token_hex(12),
        # The SDK itself drops the query and filters Authorization, Cookie and X-Api-Key (no default PII);
        # these three only the services' scrubbing catches.
        "token_named_header": secrets.token_hex(12),
        "token_shaped_header": "ghp_" + secrets.token_hex(18),
        "token_shaped_attribute": "sk_live_" + secrets.token_hex(12),
    }


# 3.x's own header deny-list (data_collection: "auth", "token", "session", ...) catches a header
# named like a token too; a secret recognisable only by its shape still needs ours.
ONLY_OURS_CATCH = (
    ["token_shaped_header", "token_shaped_attribute"]
    if SPANS_ONLY
    else ["token_named_header", "token_shaped_header", "token_shaped_attribute"]
)


def _partner(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"price": 3})


async def _serve(settings: ServiceSettings, secret: dict[str, str]) -> None:
    router = APIRouter()

    @router.get("/quote")
    async def quote() -> dict[str, int]:
        span = current_request_span()
        assert span is not None
        span.set_data("partner.reference", secret["token_shaped_attribute"])  # a secret by its shape only
        # An outgoing call whose URL carries a credential, recorded by Sentry's httpx integration.
        async with httpx.AsyncClient(transport=httpx.MockTransport(_partner)) as partner:
            answer = await partner.get(PARTNER_URL, params={"token": secret["outgoing_token"], "sku": "SKU-1"})
        return {"price": int(answer.json()["price"])}

    app = create_service_app(settings, title="t", description="t", metadata=MetaData(schema="t"), routers=[router])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=f"http://{TEST_HOST}") as client:
        response = await client.get(
            "/quote",
            params={"token": secret["query_token"], "api_key": secret["query_api_key"], "page": "2"},
            headers={
                "authorization": f"Bearer {secret['bearer']}",
                "cookie": f"session={secret['session']}; theme=dark",
                "x-session-token": secret["token_named_header"],
                "x-partner": secret["token_shaped_header"],
            },
        )
        assert response.status_code == 200
    sentry_sdk.flush()


def _span_bytes(captured: Captured) -> bytes:
    return b"".join(
        item.serialize() for envelope in captured.envelopes for item in envelope.items if item.type == "span"
    )


def _spans(captured: Captured) -> list[dict[str, Any]]:
    return [span for container in captured.items("span") for span in container["items"]]


@pytest.mark.anyio
async def test_in_stream_mode_no_secret_of_a_request_leaves_in_a_span(sentry_init: SentryInit) -> None:
    settings = make_settings(sentry_trace_lifecycle="stream")
    captured = sentry_init(settings)
    secret = _canaries()

    await _serve(settings, secret)

    spans = _spans(captured)
    assert any(span["is_segment"] for span in spans)
    assert any(span["attributes"].get("sentry.op", {}).get("value") == "http.client" for span in spans)
    sent = _span_bytes(captured)
    assert [place for place, value in secret.items() if value.encode() in sent] == []
    assert FILTERED.encode() in sent


@pytest.mark.anyio
async def test_without_scrubbing_the_secrets_do_leave_in_the_spans(sentry_init: SentryInit) -> None:
    # The off switch the leak tests use: proves the check above looks where the secrets travel.
    settings = make_settings(sentry_trace_lifecycle="stream", sentry_scrubbing=False)
    captured = sentry_init(settings)
    secret = _canaries()

    await _serve(settings, secret)

    sent = _span_bytes(captured)
    assert [place for place, value in secret.items() if value.encode() in sent] == ONLY_OURS_CATCH


def test_scrub_span_filters_names_urls_statements_and_their_copies() -> None:
    token, jwt = (
        secrets.token_hex(12),
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOi" + secrets.token_hex(6) + ".s" + secrets.token_hex(8),
    )
    span = {
        "trace_id": "a" * 32,
        "name": f"GET /export?token={token}&page=2",
        "attributes": {
            "url.full": f"https://partner.example/export?page=2&token={token}#top",
            "db.statement": f"SELECT * FROM sessions WHERE jwt = '{jwt}'",
            "db_password": "hunter2-hunter2",
            "note": f"retry with {token} later",
            "process.command_args": ["uvicorn", f"--key={jwt}"],
            "http.response.status_code": 200,
            "sentry.op": "http.server",
        },
    }

    scrubbed = scrub_span(span, {})

    assert scrubbed["name"] == "GET /export?token=%5BFiltered%5D&page=2"
    assert scrubbed["attributes"] == {
        "url.full": "https://partner.example/export?page=2&token=%5BFiltered%5D#top",
        "db.statement": f"SELECT * FROM sessions WHERE jwt = '{FILTERED}'",
        "db_password": FILTERED,
        "note": f"retry with {FILTERED} later",
        "process.command_args": ["uvicorn", f"--key={FILTERED}"],
        "http.response.status_code": 200,
        "sentry.op": "http.server",
    }
    assert scrubbed["trace_id"] == "a" * 32


def test_scrub_span_leaves_a_span_without_secrets_unchanged() -> None:
    span = {
        "name": "GET /stock/{sku}?page=2",
        "attributes": {"url.full": "http://downstream:8001/stock/SKU-1?page=2", "http.route": "/stock/{sku}", "n": 3},
    }

    assert scrub_span(copy.deepcopy(span), {}) == span


@pytest.mark.parametrize(
    ("overrides", "hooked"),
    [
        ({"sentry_trace_lifecycle": "stream"}, True),
        ({"sentry_trace_lifecycle": "stream", "sentry_scrubbing": False}, False),
        pytest.param(  # the SDK would warn: no span is streamed
            {"sentry_trace_lifecycle": "transactions"}, False, marks=sdk2_only("3.x streams spans only")
        ),
    ],
)
def test_before_send_span_is_the_scrubber_only_where_spans_stream(
    sentry_init: SentryInit, overrides: dict[str, Any], hooked: bool
) -> None:
    sentry_init(**overrides)

    assert (sentry_sdk.get_client().options.get("before_send_span") is scrub_span) is hooked


def test_before_send_span_cannot_drop_a_span_on_either_major() -> None:
    # Why SENTRY_ENABLED=false turns the sampler off rather than relying on the hook: sentry-sdk
    # 2.75 and 3.0.0 alike keep the original span when before_send_span answers None.
    settings = make_settings(sentry_trace_lifecycle="stream", sentry_scrubbing=False)  # our hook off, this one on
    try:
        configure_sentry(settings, transport=CapturingTransport, before_send_span=lambda span, hint: None)
        with start_root("kept anyway"):
            pass
        transport = sentry_sdk.get_client().transport
        assert isinstance(transport, CapturingTransport)
        assert [root.name for root in Captured(transport).roots()] == ["kept anyway"]
    finally:
        shut_down_sentry()
