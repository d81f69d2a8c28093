"""Real Sentry clients against a relay-mock process: the Python SDK, the JavaScript SDKs in Node
and in headless Chromium, sentry-cli and curl. Each envelope must be stored under the right
project with the auth form, content encoding and item types the client really used."""

from __future__ import annotations

import contextlib
import gzip
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest

from relay_mock.client import RelayError
from tests.relay_http.inspector import Inspector, plain
from tests.relay_http.javascript import JavaScriptSdks, run_browser, run_node
from tests.relay_http.sdk import run_sdk
from tests.relay_http.wire import API, DOWNSTREAM, PLAYGROUND, envelope, event, item, new_id
from tests.support.relay_server import RelayMock


def stored_as(stored: dict[str, Any]) -> dict[str, Any]:
    """What the tests compare: where an envelope was stored, how it came, and what it holds."""
    request = stored["request"]
    return {
        "project": stored["project"]["name"],
        "auth": request["auth"],
        "encoding": request["content_encoding"],
        "items": stored["item_types"],
    }


def payload(stored: dict[str, Any], item_type: str) -> Any:
    """The decoded payload of the envelope's first item of that type."""
    return next(item["payload"] for item in stored["items"] if item["type"] == item_type)


# ---------------------------------------------------------------- sentry-python


def test_python_sdk_errors_and_transactions_arrive_brotli_compressed_with_x_sentry_auth(
    relay: RelayMock, inspector: Inspector
) -> None:
    release = f"shop@{new_id()}"

    sent = run_sdk(API.dsn(relay.url), "error", "transaction", release=release)

    error = inspector.envelope(event_id=sent["errors"][0])
    transaction = inspector.envelope(trace_id=sent["transactions"][0])
    python = {"project": "api", "auth": "x-sentry-auth", "encoding": "br"}
    assert stored_as(error) == {**python, "items": ["event"]}
    assert stored_as(transaction) == {**python, "items": ["transaction"]}
    assert error["request"]["sdk_client"] == f"sentry.python/{sent['sdk']}"
    assert payload(error, "event")["exception"]["values"][-1]["type"] == "PaymentDeclined"
    assert payload(transaction, "transaction")["release"] == release


# ---------------------------------------------------------------- @sentry/node

NODE = {"project": "api", "auth": "query", "encoding": "identity"}


def test_node_sdk_errors_arrive_uncompressed_with_the_key_in_the_query_string(
    relay: RelayMock, inspector: Inspector, js_sdks: JavaScriptSdks
) -> None:
    sent = run_node(js_sdks, API.dsn(relay.url), f"checkout@{new_id()}")

    error = inspector.envelope(event_id=sent["eventId"])
    assert stored_as(error) == {**NODE, "items": ["event"]}
    assert error["request"]["sdk_client"] == f"sentry.javascript.node/{sent['sdk']}"
    assert payload(error, "event")["exception"]["values"][-1]["value"] == "card declined for 42 EUR"


def test_node_sdk_streams_its_transaction_as_a_segment_span_by_default(
    relay: RelayMock, inspector: Inspector, js_sdks: JavaScriptSdks
) -> None:
    sent = run_node(js_sdks, API.dsn(relay.url), f"checkout@{new_id()}", "stream")

    spans = inspector.envelope(trace_id=sent["traceId"], type="span")
    assert stored_as(spans) == {**NODE, "items": ["span"]}
    segment = payload(spans, "span")["items"][0]
    assert (segment["name"], segment["is_segment"], segment["trace_id"]) == ("POST /checkout", True, sent["traceId"])


def test_a_streamed_trace_is_drawn_from_its_span_items_with_the_error_on_its_segment(
    relay: RelayMock, inspector: Inspector, js_sdks: JavaScriptSdks
) -> None:
    sent = run_node(js_sdks, API.dsn(relay.url), f"checkout@{new_id()}", "stream")
    inspector.wait("span", trace_id=sent["traceId"])
    inspector.wait("event", trace_id=sent["traceId"])

    trace = plain(inspector.client.trace(sent["traceId"]))

    [segment] = trace["roots"]
    assert (segment["kind"], segment["service"], segment["description"]) == ("transaction", "api", "POST /checkout")
    assert segment["op"] == "http.server" and segment["broken"] is None
    assert [error["event_id"].replace("-", "") for error in segment["errors"]] == [sent["eventId"].replace("-", "")]
    assert (trace["services"], trace["transactions"]) == (["api"], 1)
    assert trace["verification"]["findings"] == [], trace["verification"]
    assert trace["complete"] is True


def test_node_sdk_sends_a_transaction_item_with_the_static_trace_lifecycle(
    relay: RelayMock, inspector: Inspector, js_sdks: JavaScriptSdks
) -> None:
    sent = run_node(js_sdks, API.dsn(relay.url), f"checkout@{new_id()}", "static")

    transaction = inspector.envelope(trace_id=sent["traceId"], type="transaction")
    assert stored_as(transaction) == {**NODE, "items": ["transaction"]}
    assert payload(transaction, "transaction")["transaction"] == "POST /checkout"


# ---------------------------------------------------------------- @sentry/browser in Chromium


def test_browser_sdk_messages_arrive_cross_origin_with_the_key_in_the_query_string(
    relay: RelayMock, inspector: Inspector, js_sdks: JavaScriptSdks
) -> None:
    message = f"cart abandoned {new_id()}"

    sent = run_browser(js_sdks, PLAYGROUND.dsn(relay.url), message)

    stored = inspector.envelope(event_id=sent["eventId"])
    assert stored_as(stored) == {"project": "playground", "auth": "query", "encoding": "identity", "items": ["event"]}
    assert stored["request"]["sdk_client"].startswith("sentry.javascript.browser/")
    assert "sentry_key=" + PLAYGROUND.key in sent["sent"][0]["url"]
    assert payload(stored, "event")["message"] == message
    # The browser let the SDK read every answer: a response without CORS headers is a TypeError.
    assert [request.get("status") for request in sent["sent"]] == [200] * len(sent["sent"]), sent


def test_browser_sdk_with_custom_transport_headers_passes_the_cors_preflight(
    relay: RelayMock, inspector: Inspector, js_sdks: JavaScriptSdks
) -> None:
    # A non-simple content type makes Chromium ask OPTIONS first; the POST follows only if
    # the preflight answer allows it.
    headers = {"Content-Type": "application/x-sentry-envelope"}

    sent = run_browser(js_sdks, PLAYGROUND.dsn(relay.url), f"preflighted {new_id()}", headers=headers)

    assert [request.get("status") for request in sent["sent"]] == [200] * len(sent["sent"]), sent["console"]
    assert stored_as(inspector.envelope(event_id=sent["eventId"]))["auth"] == "query"


def test_browser_sdk_can_read_the_rate_limit_headers_of_a_cross_origin_answer(
    relay: RelayMock, inspector: Inspector, js_sdks: JavaScriptSdks
) -> None:
    rule = inspector.add_fault(action="rate_limit", categories=["error"], project=PLAYGROUND.id, count=1)
    try:
        sent = run_browser(js_sdks, PLAYGROUND.dsn(relay.url), f"limited {new_id()}")
    finally:
        # A rule with a count removes itself once used up: then relay-mock answers 404.
        with contextlib.suppress(RelayError):
            inspector.client.remove_fault(rule["id"])

    [limited] = [request for request in sent["sent"] if request["item"] == "event"]
    assert limited["status"] == 429
    assert limited["rateLimits"] == "60:error:key", "X-Sentry-Rate-Limits must be exposed to scripts"


# ---------------------------------------------------------------- sentry-cli


@pytest.fixture(scope="module")
def sentry_cli() -> Path:
    binary = Path(sys.executable).with_name("sentry-cli")
    if not binary.is_file():
        pytest.fail(f"no sentry-cli at {binary}: pip install -r requirements/dev.txt (PyPI's sentry-cli)")
    return binary


def run_cli(sentry_cli: Path, relay: RelayMock, *args: str) -> str:
    env = {**os.environ, "SENTRY_DSN": DOWNSTREAM.dsn(relay.url), "SENTRY_DISABLE_UPDATE_CHECK": "true"}
    done = subprocess.run([str(sentry_cli), *args], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"sentry-cli {' '.join(args)}: {done.returncode}\n{done.stderr}"
    return done.stdout + done.stderr


def test_sentry_cli_send_event_arrives_as_an_envelope_with_x_sentry_auth(
    relay: RelayMock, inspector: Inspector, sentry_cli: Path
) -> None:
    message = f"deploy finished {new_id()}"

    output = run_cli(sentry_cli, relay, "send-event", "-m", message, "--release", "downstream@9.9.9", "--no-environ")

    event_id = re.search(r"Event id: ([0-9a-f-]{36})", output)
    assert event_id, output
    stored = inspector.envelope(event_id=event_id[1])
    assert stored_as(stored) == {
        "project": "downstream",
        "auth": "x-sentry-auth",
        "encoding": "identity",
        "items": ["event"],
    }
    assert stored["request"]["user_agent"].startswith("sentry-cli/")
    assert payload(stored, "event")["logentry"]["message"] == message


def test_sentry_cli_send_envelope_delivers_a_stored_envelope(
    relay: RelayMock, inspector: Inspector, sentry_cli: Path, tmp_path: Path
) -> None:
    body = event(logentry={"message": f"replayed {new_id()}"})
    file = tmp_path / "event.envelope"
    file.write_bytes(envelope(item("event", body), event_id=body["event_id"]))

    run_cli(sentry_cli, relay, "send-envelope", str(file))

    stored = inspector.envelope(event_id=body["event_id"])
    assert stored_as(stored) == {
        "project": "downstream",
        "auth": "x-sentry-auth",
        "encoding": "identity",
        "items": ["event"],
    }
    assert payload(stored, "event")["logentry"] == body["logentry"]


# ---------------------------------------------------------------- curl


def curl(*args: str) -> tuple[int, dict[str, Any]]:
    done = subprocess.run(
        ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", *args], capture_output=True, timeout=30, check=True
    )
    body, _, status = done.stdout.rpartition(b"\n")
    return int(status), orjson.loads(body)


API_AUTH = f"X-Sentry-Auth: Sentry sentry_key={API.key}, sentry_version=7, sentry_client=curl/8"


@pytest.fixture
def event_file(tmp_path: Path) -> tuple[str, Path]:
    """(event id, path) of an envelope file holding one error event."""
    event_id = new_id()
    path = tmp_path / "event.envelope"
    path.write_bytes(envelope(item("event", event(event_id=event_id)), event_id=event_id))
    return event_id, path


def test_curl_posts_an_uncompressed_envelope(
    relay: RelayMock, inspector: Inspector, event_file: tuple[str, Path]
) -> None:
    event_id, path = event_file

    status, answer = curl(API.envelope_url(relay.url), "--data-binary", f"@{path}", "-H", API_AUTH)

    assert (status, answer) == (200, {"id": event_id})
    stored = inspector.envelope(event_id=event_id)
    assert stored_as(stored) == {"project": "api", "auth": "x-sentry-auth", "encoding": "identity", "items": ["event"]}
    assert inspector.client.raw(stored["id"]) == path.read_bytes()


def test_curl_posts_a_gzip_compressed_envelope(
    relay: RelayMock, inspector: Inspector, event_file: tuple[str, Path]
) -> None:
    event_id, path = event_file
    compressed = path.with_suffix(".gz")
    compressed.write_bytes(gzip.compress(path.read_bytes()))

    status, answer = curl(
        API.envelope_url(relay.url), "--data-binary", f"@{compressed}", "-H", "Content-Encoding: gzip", "-H", API_AUTH
    )

    assert (status, answer) == (200, {"id": event_id})
    stored = inspector.envelope(event_id=event_id)
    assert stored_as(stored) == {"project": "api", "auth": "x-sentry-auth", "encoding": "gzip", "items": ["event"]}
    assert inspector.client.raw(stored["id"]) == path.read_bytes()


def test_curl_posts_a_json_event_to_the_legacy_store_endpoint(
    relay: RelayMock, inspector: Inspector, tmp_path: Path
) -> None:
    body = event(logentry={"message": f"legacy {new_id()}"})
    path = tmp_path / "event.json"
    path.write_bytes(orjson.dumps(body))

    status, answer = curl(
        f"{API.store_url(relay.url)}?sentry_key={API.key}&sentry_version=7",
        "--data-binary",
        f"@{path}",
        "-H",
        "Content-Type: application/json",
    )

    assert (status, answer) == (200, {"id": body["event_id"]})
    stored = inspector.envelope(event_id=body["event_id"])
    assert stored_as(stored) == {"project": "api", "auth": "query", "encoding": "identity", "items": ["event"]}
    assert stored["request"]["endpoint"] == "store"
    assert payload(stored, "event")["logentry"] == body["logentry"]
