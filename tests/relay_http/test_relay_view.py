"""What Sentry itself would store: relay-mock runs every event, transaction and feedback item
through Relay's own normalization and data scrubbing (sentry_relay), in the background, and
answers `GET /inspect/envelopes/{id}/items/{n}/relay` with what changed and which rule did it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
import sentry_sdk

from relay_mock.models import ItemView, as_json
from tests.relay_http import wire
from tests.relay_http.inspector import Inspector
from tests.relay_http.test_cli import cli
from tests.relay_http.test_mcp import PROTOCOL, McpClient
from tests.relay_http.wire import API, new_id
from tests.support.polling import poll
from tests.support.relay_server import RelayMock, free_port
from tests.support.sentry_client import shut_down_sentry

# A test card number (Visa's); it passes the Luhn check, as a real one would.
CARD = "4111 1111 1111 1111"


@pytest.fixture
def sdk(relay: RelayMock) -> Iterator[None]:
    sentry_sdk.init(dsn=API.dsn(relay.url), traces_sample_rate=1.0, default_integrations=False)
    try:
        yield
    finally:
        shut_down_sentry()


def send_card_and_url_transaction(marker: str) -> None:
    """The real SDK: an error event with a card number in `extra`, a transaction named by its URL."""
    with sentry_sdk.new_scope() as scope:
        scope.set_extra("payment_card", CARD)
        scope.set_tag("marker", marker)
        sentry_sdk.capture_message(f"checkout failed {marker}")
    with sentry_sdk.start_transaction(name="/items/123", op="http.server", source="url") as transaction:
        transaction.set_tag("marker", marker)
    sentry_sdk.flush(timeout=10)


def item_of(inspector: Inspector, item_type: str, marker: str) -> tuple[str, int]:
    def find() -> tuple[str, int] | None:
        for envelope in inspector.envelopes(type=item_type, project="api"):
            for index, item in enumerate(envelope["items"]):
                if (
                    item["header"].get("type") == item_type
                    and (item["payload"].get("tags") or {}).get("marker") == marker
                ):
                    return envelope["id"], index
        return None

    return poll(find, deadline_s=20, what=f"the SDK's {item_type}")


def relay_view(inspector: Inspector, envelope_id: str, index: int) -> ItemView:
    return inspector.client.item_view(envelope_id, index)


def test_a_card_number_in_extra_is_filtered_by_relays_creditcard_rule(sdk: None, inspector: Inspector) -> None:
    marker = new_id()
    send_card_and_url_transaction(marker)

    view = relay_view(inspector, *item_of(inspector, "event", marker))

    assert view.model_fields_set >= {"normalized", "stored", "meta", "errors"}
    assert view.normalized is not None and view.stored is not None
    assert view.normalized["extra"]["payment_card"] == CARD  # normalization keeps it; scrubbing does not
    assert view.stored["extra"]["payment_card"] == "[Filtered]"
    [remark] = view.meta["extra"]["payment_card"][""]["rem"]
    assert remark[0] == "@creditcard:filter"
    [change] = [c for c in view.changes if c.path == "extra.payment_card"]
    assert (change.rules, change.stage) == (["@creditcard:filter"], "scrubbing")
    assert view.verdict == "ok" and view.errors == []


def test_a_url_named_transaction_is_sanitized_to_a_pattern(sdk: None, inspector: Inspector) -> None:
    marker = new_id()
    send_card_and_url_transaction(marker)

    view = relay_view(inspector, *item_of(inspector, "transaction", marker))

    assert view.normalized is not None and view.stored is not None
    assert view.normalized["transaction"] == "/items/*"
    assert view.stored["transaction"] == "/items/*"
    assert view.stored["transaction_info"]["source"] == "sanitized"
    assert view.meta["transaction"][""]["val"] == "/items/123"
    [change] = [c for c in view.changes if c.path == "transaction"]
    assert change.original == "/items/123" and change.stage == "normalization"


def test_an_event_relay_refuses_is_shown_as_rejected_and_counted_without_breaking_ingest(
    start_relay: Callable[..., RelayMock], http: httpx.Client
) -> None:
    relay = start_relay()
    # A transaction without start_timestamp: Relay refuses it. An event with an unknown level:
    # Relay repairs it (drops the level and records an error).
    refused = wire.transaction(new_id(), name="GET /broken")
    del refused["start_timestamp"]
    for body in (
        wire.envelope(wire.item("transaction", refused)),
        wire.envelope(wire.item("event", wire.event(level="loud"))),
        wire.envelope(wire.item("event", wire.event())),
    ):
        assert wire.post_envelope(http, relay.url, body).status_code == 200

    with Inspector(relay.url) as inspector:
        counts = poll(lambda: _counted(inspector, 3), deadline_s=20, what="three verdicts in /inspect/stats")
        rejected = inspector.envelope(type="transaction")
        view = relay_view(inspector, rejected["id"], 0)

    assert counts == {"ok": 1, "repaired": 1, "rejected": 1, "failed": 0}
    assert view.verdict == "rejected" and "start_timestamp" in (view.detail or "")
    assert view.stored is None


def _counted(inspector: Inspector, total: int) -> dict[str, int] | None:
    api = inspector.stats()["relay"]["by_project"].get("api") or {}
    counts = {k: api.get(k, 0) for k in ("ok", "repaired", "rejected", "failed")}
    return counts if sum(counts.values()) >= total else None


def test_an_item_over_the_time_budget_is_failed_and_the_next_ones_are_computed(
    start_relay: Callable[..., RelayMock], http: httpx.Client
) -> None:
    relay = start_relay(RELAY_STORE_VIEW_BUDGET_S="0.03")
    # About 2.7 MB of breadcrumbs: Relay's code takes several times 30 ms over them (over 200 ms
    # here); a small event takes one or two.
    crumbs = [{"message": f"step {i} " + "x" * 400, "category": "work"} for i in range(6000)]
    big = wire.event(breadcrumbs={"values": crumbs})
    for body in (wire.event(), big, wire.event(), wire.event()):
        assert wire.post_envelope(http, relay.url, wire.envelope(wire.item("event", body))).status_code == 200

    with Inspector(relay.url) as inspector:
        counts = poll(lambda: _counted(inspector, 4), deadline_s=30, what="four verdicts")
        big_envelope = inspector.envelopes(type="event")[2]  # newest first
        view = relay_view(inspector, big_envelope["id"], 0)

    assert counts == {"ok": 3, "repaired": 0, "rejected": 0, "failed": 1}
    assert view.verdict == "failed" and "time budget of 0.03 s" in (view.detail or "")


def test_a_projects_own_scrubbing_settings_apply(start_relay: Callable[..., RelayMock], http: httpx.Client) -> None:
    relay = start_relay(RELAY_SCRUBBING=json.dumps({"api": {"sensitiveFields": ["order_note"]}}))
    body = wire.envelope(wire.item("event", wire.event(extra={"order_note": "leave at the door", "sku": "SKU-1"})))
    assert wire.post_envelope(http, relay.url, body).status_code == 200

    with Inspector(relay.url) as inspector:
        envelope = poll(lambda: inspector.envelopes(type="event") or None, deadline_s=10, what="the event")[0]
        view = relay_view(inspector, envelope["id"], 0)

    assert view.stored is not None
    assert view.stored["extra"] == {"order_note": "[Filtered]", "sku": "SKU-1"}
    assert (view.settings or {})["sensitiveFields"] == ["order_note"]
    [change] = [c for c in view.changes if c.path == "extra.order_note"]
    assert change.stage == "scrubbing" and change.rules


BAD_RULES = {
    "order_ref": {"type": "pattern", "pattern": "(unclosed", "redaction": {"method": "replace", "text": "[ref]"}},
}


@pytest.mark.parametrize(
    ("value", "named"),
    [
        (
            json.dumps({"api": {"piiConfig": {"rules": BAD_RULES, "applications": {"$string": ["order_ref"]}}}}),
            "order_ref",
        ),
        (json.dumps({"shop": {}}), "shop"),
        (json.dumps({"api": {"scrubData": True, "scrubEverything": True}}), "scrubEverything"),
        ("{not json", "not valid JSON"),
    ],
    ids=["bad-rule", "unknown-project", "unknown-setting", "not-json"],
)
def test_a_bad_scrubbing_setting_stops_relay_mock_naming_the_variable(tmp_path: Path, value: str, named: str) -> None:
    settings = {"RELAY_DATA_DIR": str(tmp_path), "RELAY_HOST": "127.0.0.1", "RELAY_PORT": str(free_port())}

    done = cli("serve", env={**settings, "RELAY_SCRUBBING": value}, timeout=30)

    assert done.returncode != 0
    assert "invalid configuration: RELAY_SCRUBBING" in done.stderr
    assert named in done.stderr
    assert "Traceback" not in done.stderr


def test_the_leaks_report_names_a_surviving_secret_over_http_and_mcp(
    start_relay: Callable[..., RelayMock], http: httpx.Client
) -> None:
    relay = start_relay()
    key = "ghp_" + "A1b2C3d4E5" * 4  # a GitHub token's shape, under a name no scrubber looks for
    body = wire.envelope(wire.item("event", wire.event(extra={"build_ref": key, "password": "hunter22"})))
    assert wire.post_envelope(http, relay.url, body).status_code == 200

    with Inspector(relay.url) as inspector:
        report = poll(lambda: inspector.client.leaks().items or None, deadline_s=20, what="the leak")
    mcp = McpClient(relay.url)
    try:
        mcp.request(
            "initialize", {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}
        )
        mcp.http.headers["MCP-Protocol-Version"] = PROTOCOL
        tool = mcp.call("list_leaks", project="api")
    finally:
        mcp.close()

    [item] = report
    # The password Relay filters (@password:filter); the token it lets through.
    assert [(leak.path, leak.kind, leak.preview) for leak in item.leaks] == [("extra.build_ref", "api_key", "ghp…")]
    assert tool["isError"] is False and tool["structuredContent"]["items"] == [as_json(leaked) for leaked in report]


def test_a_killed_worker_is_replaced_and_ingest_never_notices(
    start_relay: Callable[..., RelayMock], http: httpx.Client
) -> None:
    relay = start_relay()
    [worker] = poll(lambda: children(relay.pid) or None, deadline_s=10, what="the worker process")
    os.kill(worker, signal.SIGKILL)
    poll(lambda: children(relay.pid) not in ([], [worker]) or None, deadline_s=10, what="a new worker")

    body = wire.envelope(wire.item("event", wire.event(extra={"card": CARD})))
    assert wire.post_envelope(http, relay.url, body).status_code == 200

    with Inspector(relay.url) as inspector:
        counts = poll(lambda: _counted(inspector, 1), deadline_s=20, what="a verdict from a new worker")
    assert counts == {"ok": 1, "repaired": 0, "rejected": 0, "failed": 0}


def children(pid: int) -> list[int]:
    """The worker processes `pid` started, from any of its threads (Linux's /proc); not the
    resource tracker that multiprocessing starts beside them."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            for child in (task / "children").read_text().split():
                if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                    found.append(int(child))
    return found


def test_verdicts_go_with_their_envelopes_when_the_store_is_cleared(
    start_relay: Callable[..., RelayMock], http: httpx.Client
) -> None:
    relay = start_relay()
    body = wire.envelope(wire.item("event", wire.event(extra={"build_ref": "ghp_" + "A1b2C3d4E5" * 4})))
    assert wire.post_envelope(http, relay.url, body).status_code == 200

    with Inspector(relay.url) as inspector:
        poll(lambda: inspector.client.leaks().items or None, deadline_s=20, what="the leak")
        inspector.clear()
        assert inspector.client.leaks().items == []
        assert inspector.stats()["relay"]["by_project"] == {}


def test_a_feedback_item_gets_relays_view_and_a_log_item_says_why_not(
    start_relay: Callable[..., RelayMock], http: httpx.Client
) -> None:
    relay = start_relay()
    feedback = {
        "event_id": new_id(),
        "timestamp": time.time(),
        "type": "feedback",
        "contexts": {"feedback": {"message": f"charged twice on {CARD}", "contact_email": "a@example.com"}},
    }
    logs = {"version": 2, "items": [{"timestamp": time.time(), "level": "info", "body": "hello", "trace_id": new_id()}]}
    body = wire.envelope(
        wire.item("feedback", feedback),
        wire.item("log", logs, item_count=1, content_type="application/vnd.sentry.items.log+json"),
    )
    assert wire.post_envelope(http, relay.url, body).status_code == 200

    with Inspector(relay.url) as inspector:
        envelope = poll(lambda: inspector.envelopes(type="feedback") or None, deadline_s=10, what="the feedback")[0]
        view = relay_view(inspector, envelope["id"], 0)
        # Raw: the test reads the refusal's status and body.
        log_view = inspector.http.get(f"/inspect/envelopes/{envelope['id']}/items/1/relay")

    # Relay's default scrubbers leave a feedback message alone (its field is not marked as PII):
    # the card number would be stored, and the leaks list says so.
    assert view.verdict == "ok" and view.stored is not None
    assert view.stored["contexts"]["feedback"]["message"] == f"charged twice on {CARD}"
    assert [(leak.path, leak.kind) for leak in view.leaks] == [("contexts.feedback.message", "card")]
    assert log_view.status_code == 404
    assert "not logs" in log_view.json()["detail"]
