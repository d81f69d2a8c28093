"""Strict parsing of the container items (log, trace_metric, v2 span): the records of a valid
container are indexed, and every way a container can be wrong is refused with a cause."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from relay_mock.protocol.containers import MAX_RECORD_BYTES, MAX_RECORDS, is_container, parse_container
from relay_mock.protocol.envelope import Item, parse_envelope
from relay_mock.protocol.ingest_errors import IngestError
from relay_mock.store.index import index_envelope
from tests.relay_mock.test_fuzz_corpus import CORPUS

TRACE = "a" * 32
SPAN = "b" * 16
LOG = {"timestamp": 1.5, "level": "info", "body": "b", "trace_id": TRACE, "attributes": {}}
SPAN_V2 = {
    "trace_id": TRACE,
    "span_id": SPAN,
    "name": "POST /orders",
    "status": "ok",
    "is_segment": True,
    "start_timestamp": 10.0,
    "end_timestamp": 10.25,
    "attributes": {"sentry.op": {"type": "string", "value": "http.server"}},
}


def container(item_type: str, records: list[Any], **header: Any) -> Item:
    return Item(
        {"type": item_type, "item_count": len(records), **header}, orjson.dumps({"version": 2, "items": records})
    )


def refusal(item: Item) -> IngestError:
    with pytest.raises(IngestError) as caught:
        parse_container(0, item)
    return caught.value


def test_the_python_sdks_log_envelope_is_indexed_one_record_per_log() -> None:
    raw = (CORPUS / "sdk-log.identity").read_bytes()
    envelope = parse_envelope(raw[raw.index(b"{") :])

    (entry,) = index_envelope(envelope, max_event_bytes=1_000_000)

    assert entry.records is not None
    (log,) = entry.records
    assert (log.kind, log.level, log.body, log.name) == ("log", "info", "order 7 shipped", "order {order_id} shipped")


def test_a_v2_span_container_yields_its_spans_with_their_durations() -> None:
    (span,) = parse_container(0, container("span", [SPAN_V2]))

    assert (span.kind, span.trace_id, span.span_id, span.name, span.value) == (
        "span",
        TRACE,
        SPAN,
        "POST /orders",
        250.0,
    )


def test_a_v1_standalone_span_is_not_a_container() -> None:
    assert not is_container(Item({"type": "span"}, orjson.dumps(SPAN_V2)))
    assert is_container(Item({"type": "span", "content_type": "application/vnd.sentry.items.span.v2+json"}, b"{}"))


@pytest.mark.parametrize(
    ("item", "cause"),
    [
        pytest.param(container("log", [LOG], item_count=3), "the header says 3, the payload holds 1", id="count"),
        pytest.param(Item({"type": "log", "item_count": 1}, b"not json"), "invalid literal", id="json"),
        pytest.param(Item({"type": "log", "item_count": 1}, b"[]"), '{"version": 2', id="not-a-container"),
        pytest.param(container("log", [LOG], item_count=True), "item_count must be a count", id="count-bool"),
        pytest.param(
            Item({"type": "log", "item_count": 1}, orjson.dumps({"version": 3, "items": [LOG]})),
            "expected 2, got 3",
            id="version",
        ),
        pytest.param(container("log", [{**LOG, "body": 5}]), "body must be a string", id="log-body"),
        pytest.param(container("log", [{**LOG, "trace_id": "A" * 32}]), "trace_id must be 32", id="upper-hex"),
        pytest.param(container("log", [{**LOG, "span_id": "b" * 15}]), "span_id must be 16", id="short-span-id"),
        pytest.param(container("log", [{**LOG, "timestamp": "soon"}]), "timestamp must be", id="timestamp"),
        pytest.param(
            container("log", [{**LOG, "attributes": {"x": 1}}]), 'must be {"value": ..., "type": ...}', id="untyped"
        ),
        pytest.param(
            container("log", [{**LOG, "attributes": {"x": {"value": 1, "type": "int64"}}}]),
            "unknown type 'int64'",
            id="unknown-type",
        ),
        pytest.param(
            container("log", [{**LOG, "attributes": {"x": {"value": True, "type": "integer"}}}]),
            "typed integer but its value is True",
            id="bool-as-integer",
        ),
        pytest.param(
            container("trace_metric", [{"timestamp": 1, "name": "m", "type": "set", "value": 1, "trace_id": TRACE}]),
            "type must be one of counter, distribution, gauge",
            id="metric-type",
        ),
        pytest.param(
            container(
                "trace_metric", [{"timestamp": 1, "name": "m", "type": "gauge", "value": "1", "trace_id": TRACE}]
            ),
            "value must be a number",
            id="metric-value",
        ),
        pytest.param(container("span", [{**SPAN_V2, "span_id": None}]), "span_id must be 16", id="span-id"),
        pytest.param(
            container("span", [{**SPAN_V2, "end_timestamp": 9.0}]), "end_timestamp is before", id="span-ends-early"
        ),
    ],
)
def test_a_malformed_container_is_refused_naming_the_record_and_field(item: Item, cause: str) -> None:
    error = refusal(item)

    assert (error.status, error.reason) == (400, "invalid_container")
    assert error.detail.startswith(f"item 0 ({item.type})")
    assert any(cause in text for text in error.causes), error.causes


def test_more_records_than_the_limit_are_refused_as_too_large() -> None:
    error = refusal(container("log", [LOG] * (MAX_RECORDS + 1)))

    assert (error.status, error.reason) == (413, "too_many_records")


def test_a_record_over_relays_size_limit_is_refused_as_too_large() -> None:
    huge = {**LOG, "body": "x" * (MAX_RECORD_BYTES + 1)}

    error = refusal(container("log", [LOG, huge]))

    assert (error.status, error.reason, error.detail) == (413, "too_large_record", "item 0 (log) record 1 is too large")
