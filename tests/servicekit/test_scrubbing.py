"""Secrets never leave a service: `before_send` and `before_send_transaction` replace
authorization and cookie headers, the session cookie, and anything named like a
password, token or secret with "[Filtered]", wherever it sits in an event."""

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
from servicekit.sentry import FILTERED, scrub_event
from servicekit.tracing import sentry_span, tag_transaction
from tests.servicekit.conftest import TEST_HOST, SentryInit, make_settings, start_root


def _event() -> dict[str, Any]:
    return {
        "request": {
            "url": "http://api/orders",
            "query_string": "token=t0k&page=2&client_secret=s3",
            "headers": {
                "Authorization": "Bearer b3arer",
                "Cookie": "session=s3ss",
                "X-Api-Key": "k3y",
                "Accept": "*/*",
            },
            "cookies": {"session": "s3ss", "theme": "dark"},
            "data": {"password": "hunter2", "sku": "SKU-1"},
        },
        "extra": {"db_password": "hunter2", "nested": {"github_token": "ghp", "rows": 3}},
        "tags": {"session_id": "s3ss", "test_error_id": "abc"},
        "user": {"id": "u-1", "auth_token": "t0k"},
        "breadcrumbs": {"values": [{"message": "login", "data": {"passwd": "hunter2", "step": 1}}]},
        "contexts": {"trace": {"trace_id": "a" * 32, "span_id": "b" * 16}, "vault": {"private_key": "pk", "ok": 1}},
        "spans": [{"op": "db", "data": {"credentials": "c", "db.system": "postgresql"}}],
    }


def test_scrub_event_filters_every_secret_named_value_and_keeps_the_rest() -> None:
    event = scrub_event(_event())

    request = event["request"]
    assert request["headers"] == {
        "Authorization": FILTERED,
        "Cookie": FILTERED,
        "X-Api-Key": FILTERED,
        "Accept": "*/*",
    }
    assert request["cookies"] == FILTERED  # the key itself reads "cookie"
    assert request["data"] == {"password": FILTERED, "sku": "SKU-1"}
    assert request["query_string"] == "token=%5BFiltered%5D&page=2&client_secret=%5BFiltered%5D"
    assert event["extra"] == {"db_password": FILTERED, "nested": {"github_token": FILTERED, "rows": 3}}
    assert event["tags"] == {"session_id": FILTERED, "test_error_id": "abc"}
    assert event["user"] == {"id": "u-1", "auth_token": FILTERED}
    assert event["breadcrumbs"]["values"][0]["data"] == {"passwd": FILTERED, "step": 1}
    assert event["contexts"]["vault"] == {"private_key": FILTERED, "ok": 1}
    assert event["contexts"]["trace"] == _event()["contexts"]["trace"]
    assert event["spans"][0]["data"] == {"credentials": FILTERED, "db.system": "postgresql"}


def test_secrets_in_stack_frame_variables_are_redacted_wherever_they_appear() -> None:
    # Frame variables as the SDK serialises them: the ASGI scope's raw header pairs
    # (bytes reprs), a Headers repr, the session cookie read into a plain variable.
    frame_vars = {
        "scope": {
            "query_string": "b'token=t0k3n-value&page=2'",
            "headers": [["b'authorization'", "b'Bearer b3arer-token'"], ["b'cookie'", "b'session=s3ssion-cookie'"]],
        },
        "headers": "Headers({'authorization': 'Bearer b3arer-token'})",
        "data": "b's3ssion-cookie'",
        "page": "'2'",
    }
    event = {
        "request": {"query_string": "token=t0k3n-value&page=2"},
        "exception": {"values": [{"stacktrace": {"frames": [{"function": "__call__", "vars": frame_vars}]}}]},
    }

    scrubbed = scrub_event(event)["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"]

    assert scrubbed["scope"]["headers"] == [["b'authorization'", FILTERED], ["b'cookie'", FILTERED]]
    assert scrubbed["scope"]["query_string"] == f"b'token={FILTERED}&page=2'"
    assert scrubbed["headers"] == f"Headers({{'authorization': '{FILTERED}'}})"
    assert scrubbed["data"] == f"b'{FILTERED}'"
    assert scrubbed["page"] == "'2'"


def test_scrub_event_leaves_an_event_without_secrets_unchanged() -> None:
    event = {"request": {"query_string": "page=2", "headers": {"Accept": "*/*"}}, "tags": {"sku": "SKU-1"}}

    assert scrub_event(copy.deepcopy(event)) == event


def test_errors_are_scrubbed_before_they_are_sent(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    with sentry_sdk.isolation_scope() as scope:
        scope.set_extra("db_password", "hunter2")
        scope.set_tag("reset_token", "t0k")
        scope.set_context("vault", {"client_secret": "s3"})
        sentry_sdk.capture_message("with secrets around")

    (event,) = captured.events()
    assert event["extra"]["db_password"] == FILTERED
    assert event["tags"]["reset_token"] == FILTERED
    assert event["contexts"]["vault"]["client_secret"] == FILTERED


def test_transactions_are_scrubbed_before_they_are_sent(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    # Transactions on sentry-python 2 (before_send_transaction), segment spans on 3 (before_send_span).
    with start_root("t", "task"):
        tag_transaction("api_token", "t0k")
        with sentry_span("db", db_password="hunter2"):
            pass

    sent = captured.only_root()
    assert sent.tags["api_token"] == FILTERED
    assert sent.children[0].data["db_password"] == FILTERED


@pytest.mark.anyio
async def test_a_requests_credentials_and_secret_query_values_are_filtered(sentry_init: SentryInit) -> None:
    captured = sentry_init()
    router = APIRouter()

    @router.get("/report")
    async def report() -> dict[str, str | None]:
        return {"event_id": sentry_sdk.capture_message("reported")}

    app = create_service_app(
        make_settings(), title="t", description="t", metadata=MetaData(schema="t"), routers=[router]
    )
    # Made at run time: stack traces quote this file's source, which must not hold them.
    token, bearer, session = (secrets.token_hex(8) for _ in range(3))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=f"http://{TEST_HOST}") as client:
        await client.get(
            "/report",
            params={"token": token, "page": "2"},
            headers={"authorization": f"Bearer {bearer}", "cookie": f"session={session}; theme=dark"},
        )

    # A transaction repeats the request; a segment span (3.x) has no request section.
    for payload in (captured.events()[0], *(root.raw for root in captured.roots() if "request" in root.raw)):
        request = payload["request"]
        assert (request["headers"]["authorization"], request["headers"]["cookie"]) == (FILTERED, FILTERED)
        assert request["query_string"] == "token=%5BFiltered%5D&page=2"
    sent = b"".join(envelope.serialize() for envelope in captured.envelopes)
    assert [secret for secret in (token, bearer, session) if secret.encode() in sent] == []


def test_token_shaped_values_are_filtered_under_any_name_and_in_log_lines() -> None:
    # Made at run time: stack traces quote this file's source, which must not hold them.
    stripe, jwt = (
        "sk_live_" + secrets.token_hex(12),
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIx" + secrets.token_hex(4) + ".sig" + secrets.token_hex(8),
    )
    event = {
        "request": {"headers": {"X-Partner": stripe}, "data": {"note": f"use {jwt} today"}},
        "logentry": {"message": "refused %s", "params": [stripe], "formatted": f"refused {stripe}"},
        "breadcrumbs": {"values": [{"message": f"calling with {stripe}"}]},
        "exception": {"values": [{"stacktrace": {"frames": [{"vars": {"body": f"b'note={jwt}'"}}]}}]},
    }

    scrubbed = scrub_event(event)

    assert scrubbed["request"]["headers"]["X-Partner"] == FILTERED
    assert scrubbed["request"]["data"]["note"] == f"use {FILTERED} today"
    assert scrubbed["logentry"] == {"message": "refused %s", "params": [FILTERED], "formatted": f"refused {FILTERED}"}
    assert scrubbed["breadcrumbs"]["values"][0]["message"] == f"calling with {FILTERED}"
    assert scrubbed["exception"]["values"][0]["stacktrace"]["frames"][0]["vars"]["body"] == f"b'note={FILTERED}'"
