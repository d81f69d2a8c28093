"""The verifier at the Sentry/OpenTelemetry boundary.

A hop whose spans arrived over OTLP is verified like a Sentry SDK's (completeness, linkage,
timing, witness). A callee that did not read the caller's trace-context format (sentry-trace
vs W3C traceparent) and started a trace of its own is `failed` with a `propagation_format`
finding naming the formats, the evidence and the other trace, or `unverified` with a named
cause where the evidence does not settle it. Crafted stored data (tests/verify/otel.py)."""

from __future__ import annotations

from dataclasses import replace

from relay_mock.models import as_json
from relay_mock.verify.model import TraceBundle, WitnessFact
from relay_mock.verify.report import Report
from relay_mock.verify.trace_tree import build_trace
from tests.verify.builders import API_TX, DOWNSTREAM_TX, LOCUST_SPAN, T0, head_dsc, healthy_trace, kinds, run, span_id
from tests.verify.builders import trace_id as tid
from tests.verify.otel import (
    CATALOG_TX,
    OTEL_CONFIG,
    bundles,
    catalog_call_id,
    catalog_of,
    catalog_spans,
    catalog_witness,
    otel_span,
    otlp_row,
    three_hop,
    witnesses,
)

OTHER = tid(99)


def verdict(report: Report, trace: str) -> str:
    found = report.verdict_of(trace)
    assert found is not None, f"trace {trace} was not checked"
    return found.verdict


def format_finding(report: Report, trace: str) -> str:
    [finding] = [f for f in report.findings if f.trace_id == trace and f.kind == "propagation_format"]
    return finding.message


# ---------------------------------------------------------------- an OTLP hop, verified like any other


def _healthy_mixed(n: int = 1) -> list[TraceBundle]:
    t = three_hop(n)
    assert t.expectation is not None
    t = replace(t, expectation=replace(t.expectation, witnesses=witnesses(t, catalog_witness(t, joined=t.trace_id))))
    spans = catalog_spans(n, t.trace_id, parent=catalog_call_id(n), start=T0 + 0.100)
    return bundles(t, otlp_row("catalog", spans, envelope_id=f"otlp-{n}", received_at=T0 + 5))


def test_an_otlp_hop_is_read_as_its_services_segment_with_its_spans() -> None:
    found = _healthy_mixed()

    catalog = catalog_of(found, tid(1))
    assert (catalog.kind, catalog.ingest, catalog.op, catalog.parent_span_id) == (
        "segment",
        "otlp",
        "http.server",
        catalog_call_id(1),
    )
    assert sorted(str(s.op) for s in catalog.spans) == ["db", "default"]


def test_a_healthy_mixed_trace_is_verified_with_no_finding() -> None:
    report = run(*_healthy_mixed(), config=OTEL_CONFIG)

    assert report.findings == ()
    assert verdict(report, tid(1)) == "verified"


def test_an_otlp_batch_holding_two_traces_puts_each_span_in_its_own_trace_and_segment() -> None:
    one, two = three_hop(1), three_hop(2)
    batch = [
        *catalog_spans(1, one.trace_id, parent=catalog_call_id(1), start=T0 + 0.100),
        *catalog_spans(2, two.trace_id, parent=catalog_call_id(2), start=T0 + 0.100),
    ]
    # An exporter's batch does not keep a request's spans together.
    batch = [batch[1], batch[4], batch[0], batch[5], batch[3], batch[2]]
    row = otlp_row("catalog", batch, envelope_id="otlp-batch", received_at=T0 + 5)
    first = bundles(one, row)
    second = next(b for b in first if b.trace_id == two.trace_id)
    second.expectation, second.transactions = two.expectation, [*two.bundle().transactions, *second.transactions]

    report = run(*first, config=OTEL_CONFIG)

    assert report.findings == ()
    for n, bundle in ((1, first[0]), (2, second)):
        catalog = catalog_of([bundle], bundle.trace_id)
        assert {s.parent_span_id for s in catalog.spans} == {span_id(n, CATALOG_TX)}


def test_a_missing_otlp_hop_is_a_missing_transaction_like_any_other() -> None:
    t = three_hop()

    report = run(*bundles(t), config=OTEL_CONFIG)

    assert kinds(report, t.trace_id) == [("completeness", "missing_transaction")]
    assert report.findings[0].service == "catalog"


def test_an_otlp_segment_starting_outside_the_call_is_clock_skew() -> None:
    t = three_hop()
    spans = catalog_spans(1, t.trace_id, parent=catalog_call_id(1), start=T0 + 0.5)

    report = run(*bundles(t, otlp_row("catalog", spans, envelope_id="otlp-1", received_at=T0 + 5)), config=OTEL_CONFIG)

    assert ("timing", "clock_skew") in kinds(report, t.trace_id)


def test_an_otlp_service_hung_on_the_wrong_span_is_wrong_parent() -> None:
    t = three_hop()
    spans = catalog_spans(1, t.trace_id, parent=span_id(1, DOWNSTREAM_TX), start=T0 + 0.100)

    report = run(*bundles(t, otlp_row("catalog", spans, envelope_id="otlp-1", received_at=T0 + 5)), config=OTEL_CONFIG)

    assert ("linkage", "wrong_parent") in kinds(report, t.trace_id)


def _otel_caller(status_code: int | None, *, old_conventions: bool = False) -> list[TraceBundle]:
    """catalog (OTLP) makes a call to downstream that failed: with a response status, or none."""
    t = three_hop()
    spans = catalog_spans(1, t.trace_id, parent=catalog_call_id(1), start=T0 + 0.100)
    attributes: dict[str, object] = {"http.request.method": "GET"}
    if status_code is not None:
        attributes["http.status_code" if old_conventions else "http.response.status_code"] = status_code
    spans.append(
        otel_span(
            t.trace_id,
            span_id(1, 0xC9),
            parent=span_id(1, CATALOG_TX),
            name="GET",
            kind="client",
            op="http.client",
            start=T0 + 0.110,
            end=T0 + 0.120,
            description="GET http://downstream:8001/prices",
            status="error",
            detail="unavailable" if status_code is None else "internal_error",
            attributes=attributes,
        )
    )
    return bundles(t, otlp_row("catalog", spans, envelope_id="otlp-1", received_at=T0 + 5))


def test_an_otlp_call_that_got_an_answer_owes_its_callee_a_transaction() -> None:
    # The host comes from the span's description, the status from its integer attribute.
    for old in (False, True):
        report = run(*_otel_caller(503, old_conventions=old), config=OTEL_CONFIG)

        [finding] = report.findings
        assert (finding.kind, finding.service, finding.span_id) == (
            "missing_transaction",
            "downstream",
            span_id(1, 0xC9),
        )


def test_an_otlp_call_that_got_no_answer_owes_nothing() -> None:
    report = run(*_otel_caller(None), config=OTEL_CONFIG)

    assert [(f.kind, f.note) for f in report.findings] == [("call_not_reached", True)]
    assert verdict(report, tid(1)) == "verified"


# ---------------------------------------------------------------- the format break, mid-hop


def _split(*, witnessed: bool, catalog_start: float = T0 + 0.100) -> list[TraceBundle]:
    """downstream (sentry-sdk) called catalog (plain OTel, reads traceparent only): catalog
    started trace OTHER, its root without a parent."""
    t = three_hop()
    assert t.expectation is not None
    catalog = catalog_witness(t, joined=OTHER) if witnessed else None
    t = replace(t, expectation=replace(t.expectation, witnesses=witnesses(t, catalog)))
    spans = catalog_spans(1, OTHER, parent=None, start=catalog_start)
    return bundles(t, otlp_row("catalog", spans, envelope_id="otlp-1", received_at=T0 + 5))


def test_a_callee_that_reads_no_sentry_trace_fails_the_trace_naming_formats_evidence_and_other_trace() -> None:
    report = run(*_split(witnessed=True), config=OTEL_CONFIG)

    assert kinds(report, tid(1)) == [("linkage", "propagation_format")]
    [finding] = report.findings
    message = finding.message
    assert "downstream's call GET http://catalog:8002/stock/sku-1 sent sentry-trace and baggage (no traceparent)" in (
        message
    )
    assert "catalog continued none of it and started trace " + OTHER in message
    assert f"catalog's witness received sentry-trace {tid(1)}-{catalog_call_id(1)}-1" in message
    assert f"its own entry span is in trace {OTHER}" in message
    assert "catalog's root span GET /stock/{sku} starts inside the call span's window, with no parent" in message
    assert (finding.other_trace_id, finding.span_id, finding.service) == (OTHER, catalog_call_id(1), "catalog")
    assert verdict(report, tid(1)) == "failed"
    # Reported once: the trace catalog started is the same fault, not a second one.
    assert kinds(report, OTHER) == []


def test_without_a_witness_the_callee_root_inside_the_call_window_is_the_evidence() -> None:
    report = run(*_split(witnessed=False), config=OTEL_CONFIG)

    message = format_finding(report, tid(1))
    assert "sent sentry-trace and baggage (no traceparent)" in message
    assert f"started trace {OTHER}" in message
    assert "catalog's root span GET /stock/{sku} starts inside the call span's window, with no parent" in message
    assert verdict(report, tid(1)) == "failed"


def test_a_root_of_the_called_service_outside_the_call_window_is_no_evidence() -> None:
    # catalog was known to speak OTLP from a healthy trace of the run; its root here started
    # after the call had ended: nothing pairs them.
    report = run(*_split(witnessed=False, catalog_start=T0 + 0.4), *_healthy_mixed(2), config=OTEL_CONFIG)

    [finding] = [f for f in report.findings if f.trace_id == tid(1)]
    assert (finding.kind, finding.attributed_to, finding.other_trace_id) == (
        "propagation_format",
        "propagation:unknown",
        None,
    )
    assert "no witness names the trace, and no catalog root span starts inside the call span's window" in (
        finding.message
    )
    assert verdict(report, tid(1)) == "unverified"
    assert report.unverified_causes == {"propagation:unknown": 1}


def test_two_candidate_roots_and_no_witness_is_unverified_never_guessed() -> None:
    found = _split(witnessed=False)
    third = tid(98)
    spans = catalog_spans(3, third, parent=None, start=T0 + 0.110)
    found += bundles(healthy_trace(3), otlp_row("catalog", spans, envelope_id="otlp-3", received_at=T0 + 5))[1:]

    report = run(*found, config=OTEL_CONFIG)

    [finding] = [f for f in report.findings if f.trace_id == tid(1)]
    assert (finding.kind, finding.attributed_to) == ("propagation_format", "propagation:ambiguous")
    assert OTHER in finding.message and third in finding.message
    assert verdict(report, tid(1)) == "unverified"


def test_the_witness_settles_what_several_candidates_cannot() -> None:
    found = _split(witnessed=True)
    spans = catalog_spans(3, tid(98), parent=None, start=T0 + 0.110)
    found += bundles(healthy_trace(3), otlp_row("catalog", spans, envelope_id="otlp-3", received_at=T0 + 5))[1:]

    report = run(*found, config=OTEL_CONFIG)

    [finding] = [f for f in report.findings if f.trace_id == tid(1)]
    assert (finding.attributed_to, finding.other_trace_id) == (None, OTHER)


def test_a_trace_a_witness_names_is_no_candidate_for_another_call() -> None:
    # Two splits at the same moment: trace 1's catalog witness names OTHER; trace 2 has no
    # witness, and of the two catalog roots inside its call only the unclaimed one is its own.
    second, theirs = three_hop(2), tid(97)
    spans = catalog_spans(2, theirs, parent=None, start=T0 + 0.105)
    row = otlp_row("catalog", spans, envelope_id="o2", received_at=T0 + 5)
    found = [*_split(witnessed=True), *bundles(second, row)]

    report = run(*found, config=OTEL_CONFIG)

    mine = {f.trace_id: f for f in report.findings}
    assert (mine[tid(1)].other_trace_id, mine[tid(1)].attributed_to) == (OTHER, None)
    assert (mine[second.trace_id].other_trace_id, mine[second.trace_id].attributed_to) == (theirs, None)


def test_a_callee_that_continued_the_trace_but_whose_spans_were_lost_is_no_format_break() -> None:
    t = three_hop()
    assert t.expectation is not None
    t = replace(t, expectation=replace(t.expectation, witnesses=witnesses(t, catalog_witness(t, joined=t.trace_id))))

    report = run(*bundles(t), config=OTEL_CONFIG)

    assert kinds(report, t.trace_id) == [("completeness", "missing_transaction")]
    assert "propagation held and the envelope was lost in delivery" in report.findings[0].message


def test_a_sentry_callee_cut_off_is_still_propagation_lost_not_a_format_break() -> None:
    t = healthy_trace()
    assert t.downstream is not None
    cut = replace(t.downstream, trace_id=OTHER, parent_span_id=None, dsc=head_dsc(99))

    report = run(replace(t, downstream=None).bundle(), TraceBundle(OTHER, transactions=[cut]), config=OTEL_CONFIG)

    assert kinds(report, t.trace_id) == [("linkage", "propagation_lost")]


def test_the_call_link_is_shown_on_both_traces_pages() -> None:
    found = _split(witnessed=True)
    report = run(*found, config=OTEL_CONFIG)
    pages = {b.trace_id: as_json(build_trace(b, report)) for b in found}

    [caller_link] = pages[tid(1)]["broken_links"]
    assert (caller_link["other_trace_id"], caller_link["span_id"], caller_link["verdict"]) == (
        OTHER,
        catalog_call_id(1),
        "failed",
    )
    [callee_link] = pages[OTHER]["broken_links"]
    assert (callee_link["other_trace_id"], callee_link["service"], callee_link["span_id"]) == (
        tid(1),
        "catalog",
        span_id(1, CATALOG_TX),
    )
    assert f"did not continue trace {tid(1)}" in callee_link["reason"]
    [root] = pages[OTHER]["roots"]
    assert root["broken"] is not None


# ---------------------------------------------------------------- the head: Locust sends traceparent only


def _head_split(*, witnessed: bool, propagation: str = "w3c") -> tuple[list[TraceBundle], str]:
    """Locust sent traceparent only; api (sentry-sdk) read none of it and started trace OTHER,
    where downstream followed it."""
    t = healthy_trace()
    assert t.api is not None and t.downstream is not None and t.expectation is not None
    moved = [replace(tx, trace_id=OTHER, dsc=head_dsc(99)) for tx in (t.api, t.downstream)]
    moved[0] = replace(moved[0], parent_span_id=None)
    traceparent = f"00-{t.trace_id}-{span_id(1, LOCUST_SPAN)}-01"
    head = WitnessFact("", "api", True, traceparent, OTHER)
    expectation = replace(t.expectation, propagation=propagation, witnesses=(head,) if witnessed else None)
    return [TraceBundle(t.trace_id, expectation=expectation), TraceBundle(OTHER, transactions=moved)], t.trace_id


def test_locust_w3c_at_the_head_and_api_not_continuing_is_the_same_finding_at_the_first_hop() -> None:
    found, trace = _head_split(witnessed=True)

    report = run(*found, config=OTEL_CONFIG)

    assert kinds(report, trace) == [("linkage", "propagation_format")]
    [finding] = report.findings
    assert finding.message.startswith(
        "the caller's request sent traceparent only (no sentry-trace);"
        f" api continued none of it and started trace {OTHER}"
    )
    assert f"api's witness received traceparent 00-{trace}-" in finding.message
    assert "no sentry-trace" in finding.message
    assert "api's root span /orders starts inside the request's window, with no parent" in finding.message
    assert (finding.other_trace_id, finding.span_id) == (OTHER, None)
    assert verdict(report, trace) == "failed"
    assert kinds(report, OTHER) == []


def test_the_services_after_a_split_head_witness_the_new_trace_and_add_no_second_finding() -> None:
    found, trace = _head_split(witnessed=True)
    exp = found[0].expectation
    assert exp is not None and exp.witnesses is not None
    after = WitnessFact(f"{OTHER}-{span_id(1, 0xA3)}-1", "downstream", True, "", OTHER)
    found[0].expectation = replace(exp, witnesses=(*exp.witnesses, after))

    report = run(*found, config=OTEL_CONFIG)

    assert kinds(report, trace) == [("linkage", "propagation_format")]


def test_a_witness_of_another_trace_unrelated_to_the_break_still_fails() -> None:
    found, trace = _head_split(witnessed=True)
    exp = found[0].expectation
    assert exp is not None and exp.witnesses is not None
    stray = WitnessFact(f"{tid(77)}-{span_id(1, 0xA3)}-1", "downstream", True, "", tid(77))
    found[0].expectation = replace(exp, witnesses=(*exp.witnesses, stray))

    report = run(*found, config=OTEL_CONFIG)

    assert sorted(kinds(report, trace)) == [("linkage", "propagation_format"), ("witness", "witness_mismatch")]


def test_locust_w3c_without_witness_pairs_the_api_root_inside_the_request_window() -> None:
    found, trace = _head_split(witnessed=False)

    report = run(*found, config=OTEL_CONFIG)

    message = format_finding(report, trace)
    assert "sent traceparent and tracestate only (no sentry-trace)" in message
    assert "api's root span /orders starts inside the request's window, with no parent" in message


def test_locust_sentry_at_the_head_with_nothing_arrived_is_still_a_missing_transaction() -> None:
    found, trace = _head_split(witnessed=False, propagation="sentry")

    report = run(found[0], config=OTEL_CONFIG)

    assert {k for k in kinds(report, trace)} == {("completeness", "missing_transaction")}


def test_the_head_split_page_links_to_where_the_request_went_and_back() -> None:
    found, trace = _head_split(witnessed=True)
    report = run(*found, config=OTEL_CONFIG)

    head = as_json(build_trace(found[0], report))
    other = as_json(build_trace(found[1], report))

    assert [(b["other_trace_id"], b["service"]) for b in head["broken_links"]] == [(OTHER, "api")]
    assert [(b["other_trace_id"], b["span_id"]) for b in other["broken_links"]] == [(trace, span_id(1, API_TX))]
