"""Trace utilities: reading the incoming `sentry-trace`/`baggage`, writing them onto
responses, tagging, and nested spans that record errors."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
import sentry_sdk
from hypothesis import given, settings
from hypothesis import strategies as st
from sentry_sdk.traces import StreamedSpan
from starlette.requests import Request
from starlette.responses import Response

from servicekit.tracing import (
    MAX_BAGGAGE_BYTES,
    extract_sentry_trace,
    inject_sentry_trace_headers,
    sentry_span,
    tag_transaction,
)
from tests.servicekit.conftest import SentryInit, start_root

TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
SPAN_ID = "b7ad6b7169203331"


@pytest.mark.parametrize(("suffix", "sampled"), [("-1", True), ("-0", False), ("", None)])
def test_a_valid_sentry_trace_is_parsed(suffix: str, sampled: bool | None) -> None:
    incoming = extract_sentry_trace({"sentry-trace": f"{TRACE_ID}-{SPAN_ID}{suffix}"})

    assert (incoming.trace_id, incoming.parent_span_id, incoming.sampled) == (TRACE_ID, SPAN_ID, sampled)
    assert incoming.valid
    assert incoming.problems == ()


def test_uppercase_hex_is_reported_because_the_sdk_would_start_a_new_trace() -> None:
    incoming = extract_sentry_trace({"sentry-trace": f"{TRACE_ID.upper()}-{SPAN_ID.upper()}-1"})

    assert incoming.trace_id is None
    assert not incoming.valid
    assert incoming.present
    assert incoming.problems == ("sentry-trace: uppercase hex (the SDK ignores it and starts a new trace)",)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        f"{TRACE_ID}-{SPAN_ID}-2",
        f"{TRACE_ID[:-1]}-{SPAN_ID}-1",
        f"{TRACE_ID}{SPAN_ID}",
        f"{TRACE_ID}-{SPAN_ID}-1-extra",
        f"{'0' * 32}-{SPAN_ID}-1",
    ],
)
def test_a_malformed_sentry_trace_is_reported_not_raised(value: str) -> None:
    incoming = extract_sentry_trace({"sentry-trace": value})

    assert incoming.trace_id is None
    assert not incoming.valid
    assert len(incoming.problems) == 1
    assert incoming.problems[0].startswith("sentry-trace:")


def test_no_trace_headers_is_not_a_problem() -> None:
    incoming = extract_sentry_trace({"accept": "*/*"})

    assert (incoming.present, incoming.valid, incoming.problems, incoming.dsc) == (False, False, (), {})


def test_baggage_sentry_members_become_the_dynamic_sampling_context() -> None:
    baggage = f"other=1, sentry-trace_id={TRACE_ID},sentry-release=api%401.0.0, sentry-sample_rate=0.5;prop=x"

    incoming = extract_sentry_trace({"sentry-trace": f"{TRACE_ID}-{SPAN_ID}-1", "baggage": baggage})

    assert incoming.dsc == {"trace_id": TRACE_ID, "release": "api@1.0.0", "sample_rate": "0.5"}
    assert incoming.problems == ()


@pytest.mark.parametrize(
    ("baggage", "problem"),
    [
        ("sentry-release", "baggage: member 'sentry-release' is not key=value"),
        ("=value", "baggage: member '=value' is not key=value"),
        ("k=" + "v" * MAX_BAGGAGE_BYTES, f"baggage: longer than {MAX_BAGGAGE_BYTES} bytes"),
        (f"sentry-trace_id={'f' * 32}", "baggage: sentry-trace_id differs from the sentry-trace header"),
    ],
)
def test_a_bad_baggage_is_reported(baggage: str, problem: str) -> None:
    incoming = extract_sentry_trace({"sentry-trace": f"{TRACE_ID}-{SPAN_ID}-1", "baggage": baggage})

    assert incoming.problems == (problem,)
    assert not incoming.valid


def _asgi_scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "GET",
        "path": "/",
        "headers": [(b"sentry-trace", f"{TRACE_ID}-{SPAN_ID}-1".encode()), (b"baggage", b"sentry-release=r")],
    }


@pytest.mark.parametrize(
    "source",
    [
        pytest.param({"Sentry-Trace": f"{TRACE_ID}-{SPAN_ID}-1", "Baggage": "sentry-release=r"}, id="mapping"),
        pytest.param(_asgi_scope(), id="asgi-scope"),
        pytest.param(Request(_asgi_scope()), id="request"),
        pytest.param(_asgi_scope()["headers"], id="raw-pairs"),
    ],
)
def test_headers_are_read_from_a_request_a_mapping_a_scope_or_raw_pairs(source: Any) -> None:
    incoming = extract_sentry_trace(source)

    assert (incoming.trace_id, incoming.dsc) == (TRACE_ID, {"release": "r"})


@settings(max_examples=300, deadline=None)
@given(trace=st.text(), baggage=st.text(), raw=st.binary())
def test_extract_never_raises_whatever_the_headers_hold(trace: str, baggage: str, raw: bytes) -> None:
    extract_sentry_trace({"sentry-trace": trace, "baggage": baggage})
    extract_sentry_trace([(b"sentry-trace", raw), (b"baggage", raw)])


def test_inject_writes_the_current_transactions_trace_onto_a_response(sentry_init: SentryInit) -> None:
    sentry_init()
    response = Response()

    with start_root("t", "task") as transaction:
        returned = inject_sentry_trace_headers(response)

    assert returned is response
    assert response.headers["sentry-trace"] == f"{transaction.trace_id}-{transaction.span_id}-1"
    assert f"sentry-trace_id={transaction.trace_id}" in response.headers["baggage"].split(",")


def test_inject_without_an_sdk_client_does_not_raise() -> None:
    response = inject_sentry_trace_headers(Response())

    assert "baggage" not in response.headers


def test_tag_transaction_tags_the_current_span_and_the_scope(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    with sentry_sdk.isolation_scope(), start_root("t", "task"):
        with sentry_span("step"):
            assert tag_transaction("test_id", 42) is True
        sentry_sdk.capture_message("after the step")

    (step,) = [span for span in captured.only_root().children if span.op == "step"]
    assert step.data["test_id"] == "42"
    assert captured.events()[0]["tags"]["test_id"] == "42"


def test_tag_transaction_outside_any_span_still_tags_what_the_scope_reports(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    with sentry_sdk.isolation_scope():
        assert tag_transaction("test_id", "abc") is False
        sentry_sdk.capture_message("tagged")

    assert captured.events()[0]["tags"]["test_id"] == "abc"


def test_sentry_span_nests_under_the_current_span(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    with start_root("t", "task") as transaction:
        with sentry_span("outer", "the outer step", rows=3):
            with sentry_span("inner"):
                pass

    spans = {span.op: span for span in captured.only_root().children}
    assert spans["outer"].parent_span_id == transaction.span_id
    assert spans["inner"].parent_span_id == spans["outer"].span_id
    assert spans["outer"].name == "the outer step"
    assert spans["outer"].data["rows"] == 3


@pytest.mark.anyio
async def test_sentry_span_works_with_async_with(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    with start_root("t", "task"):
        async with sentry_span("outer"):
            async with sentry_span("inner"):
                pass

    spans = {span.op: span for span in captured.only_root().children}
    assert spans["inner"].parent_span_id == spans["outer"].span_id


def test_sentry_span_records_an_error_and_lets_it_propagate(sentry_init: SentryInit) -> None:
    captured = sentry_init()

    with start_root("t", "task"):
        with pytest.raises(ValueError, match="bad input"):
            with sentry_span("risky"):
                raise ValueError("bad input")

    (risky,) = captured.only_root().children
    assert risky.status == "internal_error"
    assert risky.data["error.type"] == "ValueError"
    assert risky.data["error.message"] == "bad input"


def test_sentry_span_without_an_sdk_client_is_harmless() -> None:
    with sentry_span("anything", "no client") as span:
        # Without a client 2.x makes a transaction span and 3.x a streamed one; neither is sent.
        if isinstance(span, StreamedSpan):
            span.set_attribute("k", secrets.token_hex(2))
        else:
            span.set_data("k", secrets.token_hex(2))
