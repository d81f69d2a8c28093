"""Segments of streamed spans become the verifier's transactions: each with the spans under it
(however deep), the service's detailed status, and the envelope's DSC."""

from __future__ import annotations

from typing import Any

import orjson

from relay_mock.verify.streamed import streamed_transactions

TRACE = "a" * 32


def span(span_id: str, parent: str | None, *, segment: bool = False, **attributes: Any) -> dict[str, Any]:
    return {
        "trace_id": TRACE,
        "span_id": span_id,
        "parent_span_id": parent,
        "name": f"span {span_id[0]}",
        "status": "error" if "sentry.status.detail" in attributes else "ok",
        "is_segment": segment,
        "start_timestamp": 10.0,
        "end_timestamp": 10.5,
        "attributes": {key.replace("_", "."): {"type": "string", "value": v} for key, v in attributes.items()},
    }


def row(project: str, *spans: dict[str, Any]) -> dict[str, Any]:
    return {
        "project": project,
        "envelope_id": f"env-{project}",
        "received_at": 11.0,
        "header": orjson.dumps({"trace": {"trace_id": TRACE, "sampled": "true"}}),
        "payload": orjson.dumps({"version": 2, "items": list(spans)}),
    }


def test_each_segment_is_a_transaction_holding_the_spans_under_it() -> None:
    api = row(
        "api",
        span("1" * 16, None, segment=True, sentry_op="http.server"),
        span("2" * 16, "1" * 16, sentry_op="db"),
        span("3" * 16, "2" * 16, sentry_op="http.client"),
    )
    down = row("downstream", span("4" * 16, "3" * 16, segment=True, **{"sentry.status.detail": "already_exists"}))

    head, served = sorted(streamed_transactions([api, down]), key=lambda tx: tx.project)

    assert (head.project, head.span_id, head.op, head.status, head.dsc) == (
        "api",
        "1" * 16,
        "http.server",
        "ok",
        {"trace_id": TRACE, "sampled": "true"},
    )
    assert [(s.span_id, s.parent_span_id, s.op) for s in head.spans] == [
        ("2" * 16, "1" * 16, "db"),
        ("3" * 16, "2" * 16, "http.client"),
    ]
    assert (served.parent_span_id, served.status, served.spans) == ("3" * 16, "already_exists", ())


def test_a_span_whose_segment_never_arrived_belongs_to_no_transaction() -> None:
    (only,) = streamed_transactions([row("api", span("1" * 16, None, segment=True), span("5" * 16, "9" * 16))])

    assert only.spans == ()
