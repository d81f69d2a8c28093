"""Sentry logs and trace metrics over real HTTP: what sentry-python sends is indexed and served by
/inspect/logs and /inspect/metrics (filters, cursor, per-bucket aggregates), in both trace
lifecycles; a malformed container is refused with its cause, like any other bad item."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest

from relay_mock.models import LogRecord
from tests.relay_http.inspector import Inspector
from tests.relay_http.sdk import run_sdk
from tests.relay_http.wire import API, envelope, item, new_id, post_envelope
from tests.support.polling import poll
from tests.support.relay_server import RelayMock

LOG = {"timestamp": 1_800_000_000.5, "level": "info", "body": "hello", "attributes": {}}


def _logs(inspector: Inspector, **params: Any) -> list[LogRecord]:
    return inspector.client.logs(**params).logs


def _wait_logs(inspector: Inspector, count: int, **params: Any) -> list[LogRecord]:
    return poll(
        lambda: found if len(found := _logs(inspector, **params)) >= count else None,
        deadline_s=20,
        what=f"{count} logs for {params}",
    )


@pytest.mark.parametrize("lifecycle", ["static", "stream"])
def test_the_sdks_logs_are_served_with_their_trace_span_template_and_attributes(
    relay: RelayMock, inspector: Inspector, lifecycle: str
) -> None:
    sent = run_sdk(API.dsn(relay.url), "telemetry", stream=lifecycle == "stream")

    logs = _wait_logs(inspector, 2, trace_id=sent["trace_id"], service="api")

    by_body = {log.body: log for log in logs}
    placed = by_body["order 7 placed"]
    assert (placed.level, placed.template, placed.service) == ("info", "order {order_id} placed", "api")
    assert (placed.attributes or {})["sentry.message.parameter.order_id"] == 7
    assert {log.span_id for log in logs if log.body != "outside any span"} == {sent["span_id"]}
    assert _logs(inspector, trace_id=sent["trace_id"], level="warning")[0].body == "stock short for SKU-9"
    assert _logs(inspector, trace_id=sent["trace_id"], level="WARNING")[0].body == "stock short for SKU-9"
    assert _logs(inspector, trace_id=sent["trace_id"], q="SKU-9")[0].body == "stock short for SKU-9"


@pytest.mark.parametrize("lifecycle", ["static", "stream"])
def test_the_sdks_metrics_are_served_as_points_and_series(
    relay: RelayMock, inspector: Inspector, lifecycle: str
) -> None:
    sent = run_sdk(API.dsn(relay.url), "telemetry", stream=lifecycle == "stream")

    body = poll(
        lambda: found if len((found := inspector.client.metrics(trace_id=sent["trace_id"])).points) >= 3 else None,
        deadline_s=20,
        what="three metrics",
    )

    points = {point.name: point for point in body.points}
    assert (points["orders"].type, points["orders"].value) == ("counter", 1.0)
    assert (points["orders"].attributes or {})["outcome"] == "confirmed"
    assert (points["reservation.latency"].unit, points["stock.level"].type) == ("millisecond", "gauge")
    assert {point.span_id for point in body.points} == {sent["span_id"]}
    (gauge,) = [series for series in body.series or [] if series.name == "stock.level"]
    (bucket,) = gauge.buckets
    assert (bucket.count, bucket.last, bucket.max) == (1, 41.0, 41.0)
    only_gauges = inspector.client.metrics(trace_id=sent["trace_id"], type="gauge", series="false")
    assert [point.name for point in only_gauges.points] == ["stock.level"]
    assert "series" not in only_gauges.model_fields_set


def test_logs_page_newest_first_with_a_cursor_that_neither_repeats_nor_skips(
    relay: RelayMock, inspector: Inspector, http: httpx.Client
) -> None:
    trace_id = new_id()
    logs = [{**LOG, "trace_id": trace_id, "body": f"line {n}"} for n in range(5)]
    payload = {"version": 2, "items": logs}
    response = post_envelope(http, relay.url, envelope(item("log", payload, item_count=5)))
    assert response.status_code == 200, response.text

    first = inspector.client.logs(trace_id=trace_id, limit=2)
    second = inspector.client.logs(trace_id=trace_id, limit=2, cursor=first.next_cursor)
    third = inspector.client.logs(trace_id=trace_id, limit=2, cursor=second.next_cursor)

    pages = [[log.body for log in page.logs] for page in (first, second, third)]
    assert pages == [["line 4", "line 3"], ["line 2", "line 1"], ["line 0"]]
    assert third.next_cursor is None


@pytest.mark.parametrize(
    ("header", "payload", "cause"),
    [
        pytest.param({"item_count": 2}, {"version": 2, "items": [LOG]}, "the header says 2", id="count-mismatch"),
        pytest.param({}, {"version": 2, "items": [LOG]}, "item_count must be a count", id="count-missing"),
        pytest.param(
            {"item_count": 1},
            {"version": 2, "items": [{**LOG, "attributes": {"n": {"value": "7", "type": "integer"}}}]},
            "attribute 'n' is typed integer",
            id="attribute-type",
        ),
        pytest.param(
            {"item_count": 1}, {"version": 2, "items": [{**LOG, "level": "loud"}]}, "level must be", id="level"
        ),
    ],
)
def test_a_malformed_log_container_is_refused_with_its_cause_and_recorded(
    relay: RelayMock, inspector: Inspector, http: httpx.Client, header: dict[str, Any], payload: Any, cause: str
) -> None:
    for record in payload["items"]:
        record.setdefault("trace_id", new_id())
    body = envelope(item("log", orjson.dumps(payload), **header))

    response = post_envelope(http, relay.url, body)

    assert response.status_code == 400
    assert response.json()["detail"].startswith("item 0 (log)")
    assert any(cause in text for text in response.json()["causes"]), response.json()
    # Refusals are recorded after the answer, so the refused client is not kept waiting.
    poll(
        lambda: any(cause in refusal["detail"] for refusal in inspector.refusals()) or None,
        deadline_s=10,
        what="the refusal recorded",
    )


def test_a_metric_without_a_trace_id_is_refused_as_relay_refuses_it(relay: RelayMock, http: httpx.Client) -> None:
    metric = {"timestamp": 1_800_000_000.0, "name": "orders", "type": "counter", "value": 1}
    body = envelope(item("trace_metric", {"version": 2, "items": [metric]}, item_count=1))

    response = post_envelope(http, relay.url, body)

    assert response.status_code == 400
    assert response.json()["causes"] == ["trace_id must be 32 lowercase hex characters, got 'None'"]


@pytest.mark.parametrize(
    ("path", "params", "name"),
    [
        ("/inspect/logs", {"level": "loud"}, "level"),
        ("/inspect/logs", {"trace_id": "xyz"}, "trace_id"),
        ("/inspect/logs", {"cursor": "12"}, "cursor"),
        ("/inspect/metrics", {"type": "histogram"}, "type"),
        ("/inspect/metrics", {"bucket": "0"}, "bucket"),
    ],
)
def test_a_bad_filter_answers_400_naming_it(
    inspector: Inspector, http: httpx.Client, relay: RelayMock, path: str, params: dict[str, str], name: str
) -> None:
    response = http.get(f"{relay.url}{path}", params=params)

    assert response.status_code == 400
    assert response.json()["detail"] == f"invalid query parameter {name}"
