"""The catalogue of broken traces: each breaks one thing in a healthy trace, and the verifier must
name exactly that failure class for it, and nothing else. Proof that every check can fail."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pytest

from relay_mock.verify import pitfalls  # noqa: F401  (registers the sdk_pitfalls check)
from relay_mock.verify.checks import FINDING_KINDS
from relay_mock.verify.model import ExpectationFact, ProfileFact, TraceBundle
from tests.verify.builders import (
    API_DB,
    API_KEY,
    API_TX,
    CALL,
    DOWNSTREAM_DB,
    DOWNSTREAM_KEY,
    DOWNSTREAM_TX,
    T0,
    TwoHop,
    error_event,
    head_dsc,
    healthy_trace,
    kinds,
    run,
    span_id,
    trace_id,
    with_span,
)


@dataclass(frozen=True)
class Broken:
    check: str
    kind: str
    story: str
    breaks: Callable[[TwoHop], list[TraceBundle]]


def _unsampled(t: TwoHop) -> list[TraceBundle]:
    dsc = head_dsc(t.n, sample_rate="0.5", sample_rand="0.9", sampled="false")
    assert t.expectation is not None and t.api is not None and t.downstream is not None
    expectation = replace(t.expectation, sampled=False, sample_rand=0.9, sample_rate=0.5)
    broken = replace(t, expectation=expectation, api=replace(t.api, dsc=dsc), downstream=replace(t.downstream, dsc=dsc))
    return [broken.bundle()]


def _both_dsc(t: TwoHop, **changes: str) -> TwoHop:
    assert t.api is not None and t.downstream is not None
    dsc = head_dsc(t.n, **changes)
    return replace(t, api=replace(t.api, dsc=dsc), downstream=replace(t.downstream, dsc=dict(dsc)))


def _expect(t: TwoHop, **changes: Any) -> TwoHop:
    assert t.expectation is not None
    return replace(t, expectation=replace(t.expectation, **changes))


def _downstream(t: TwoHop, **changes: Any) -> TwoHop:
    assert t.downstream is not None
    return replace(t, downstream=replace(t.downstream, **changes))


def _child_under_another_trace_id(t: TwoHop) -> list[TraceBundle]:
    assert t.downstream is not None
    stray = replace(t.downstream, trace_id=trace_id(99), dsc=head_dsc(99))
    return [replace(t, downstream=None).bundle(), TraceBundle(trace_id=trace_id(99), transactions=[stray])]


def _propagation_lost(t: TwoHop) -> list[TraceBundle]:
    """The call carried no trace headers: downstream answered it in a trace of its own."""
    assert t.downstream is not None
    own_dsc = {**head_dsc(99), "public_key": DOWNSTREAM_KEY, "release": "downstream@1.0.0"}
    cut_off = replace(t.downstream, trace_id=trace_id(99), parent_span_id=None, dsc=own_dsc)
    return [replace(t, downstream=None).bundle(), TraceBundle(trace_id=trace_id(99), transactions=[cut_off])]


def _propagation_format(t: TwoHop) -> list[TraceBundle]:
    """downstream is an OpenTelemetry service (its spans over OTLP) that reads traceparent only:
    it received api's sentry-trace, said so in its witness, and started a new trace."""
    from relay_mock.verify.model import WitnessFact

    assert t.downstream is not None
    otel = replace(t.downstream, trace_id=trace_id(99), parent_span_id=None, dsc=None, kind="segment", ingest="otlp")
    witness = WitnessFact(f"{t.trace_id}-{span_id(t.n, CALL)}-1", "downstream", None, "", trace_id(99))
    expected = _expect(replace(t, downstream=None), witnesses=(witness,))
    return [expected.bundle(), TraceBundle(trace_id=trace_id(99), transactions=[otel])]


def _error_under_another_trace_id(t: TwoHop) -> list[TraceBundle]:
    error = replace(error_event(t, project="api", role=API_DB), trace_id=trace_id(99))
    return [t.bundle(), TraceBundle(trace_id=trace_id(99), errors=[error])]


def _duplicate_child(t: TwoHop) -> list[TraceBundle]:
    assert t.downstream is not None
    twin = replace(
        t.downstream, envelope_id="env-twin", event_id="f" * 32, span_id=span_id(t.n, 0xD9), spans=()
    )  # a second transaction for the same request, as a custom start_transaction makes
    twin = replace(twin, status="internal_error")  # no db span owed, so only the duplicate shows
    return [replace(t, extra=(twin,)).bundle()]


def _witness_of_another_trace(t: TwoHop) -> list[TraceBundle]:
    """downstream's answer says it received another trace id than the one api sent."""
    from relay_mock.verify.model import WitnessFact

    witness = WitnessFact(f"{trace_id(99)}-{span_id(t.n, CALL)}-1", "downstream")
    return [_expect(t, witnesses=(witness,)).bundle()]


def _witness_told_unsampled(t: TwoHop) -> list[TraceBundle]:
    """downstream says it was told the trace is unsampled, though the caller sampled it."""
    from relay_mock.verify.model import WitnessFact

    witness = WitnessFact(f"{t.trace_id}-{span_id(t.n, CALL)}-0", "downstream")
    return [_expect(t, witnesses=(witness,)).bundle()]


def _shared_trace(t: TwoHop) -> list[TraceBundle]:
    """Nobody announced the trace, and two api requests hang under the same unsent span."""
    assert t.api is not None
    unsent = "c0ffee00c0ffee00"
    first = replace(t.api, parent_span_id=unsent, spans=(), status="internal_error")
    second = replace(first, envelope_id="env-api-twin", span_id=span_id(t.n, 0xB1), name="/items/{id}")
    return [replace(t, expectation=None, api=first, downstream=None, extra=(second,)).bundle()]


CATALOGUE = [
    Broken(
        "completeness",
        "missing_transaction",
        "the api called downstream, but no downstream transaction arrived",
        lambda t: [replace(t, downstream=None).bundle()],
    ),
    Broken(
        "completeness",
        "missing_transaction",
        "the api transaction never arrived (the downstream one is not also called an orphan)",
        lambda t: [replace(t, api=None).bundle()],
    ),
    Broken(
        "completeness",
        "missing_transaction",
        "found in the store only: a call without its downstream transaction",
        lambda t: [replace(t, expectation=None, downstream=None).bundle()],
    ),
    Broken(
        "completeness",
        "missing_transaction",
        "found in the store only: a downstream transaction whose caller (a known caller in the run) never arrived",
        lambda t: [replace(t, expectation=None, api=None).bundle(), healthy_trace(2).bundle()],
    ),
    Broken(
        "linkage",
        "propagation_lost",
        "api's call reached downstream without trace headers, so downstream started a new trace",
        _propagation_lost,
    ),
    Broken(
        "linkage",
        "propagation_format",
        "api sent sentry-trace to an OpenTelemetry downstream that reads only traceparent: it started a new trace",
        _propagation_format,
    ),
    Broken(
        "linkage",
        "wrong_parent",
        "the downstream transaction hangs on the api's db span",
        lambda t: [_downstream(t, parent_span_id=span_id(t.n, API_DB)).bundle()],
    ),
    Broken(
        "linkage",
        "wrong_parent",
        "the api sent its transaction's span id instead of the http.client span's",
        lambda t: [_downstream(t, parent_span_id=span_id(t.n, API_TX)).bundle()],
    ),
    Broken(
        "linkage",
        "orphan",
        "the downstream transaction hangs on a span nobody reported",
        lambda t: [_downstream(t, parent_span_id="0123456789abcdef").bundle()],
    ),
    Broken(
        "linkage",
        "duplicate_child",
        "two downstream transactions continue the same call span",
        _duplicate_child,
    ),
    Broken(
        "identity",
        "trace_id_mismatch",
        "the downstream transaction hangs on the api's call span but carries another trace id",
        _child_under_another_trace_id,
    ),
    Broken(
        "identity",
        "trace_id_mismatch",
        "an error raised in the api's db span carries another trace id",
        _error_under_another_trace_id,
    ),
    Broken(
        "identity",
        "trace_id_mismatch",
        "a profile of the trace names another trace",
        lambda t: [replace(t, profiles=(ProfileFact("env-profile", "api", trace_id(99), T0 + 1),)).bundle()],
    ),
    Broken(
        "dsc",
        "dsc_mismatch",
        "the downstream froze a DSC of its own instead of copying the api's",
        lambda t: [_downstream(t, dsc=head_dsc(t.n, public_key=DOWNSTREAM_KEY, release="downstream@1.0.0")).bundle()],
    ),
    Broken(
        "dsc",
        "dsc_wrong_head",
        "every envelope carries the same DSC, but its release is not the api's",
        lambda t: [_both_dsc(t, release="api@0.9.0").bundle()],
    ),
    Broken(
        "dsc",
        "dsc_wrong_head",
        "every envelope carries the same DSC, but its public key is the downstream's",
        lambda t: [_both_dsc(t, public_key=DOWNSTREAM_KEY).bundle()],
    ),
    Broken(
        "dsc",
        "dsc_wrong_head",
        "the caller sent baggage, but the api froze its own DSC instead of continuing the caller's",
        lambda t: [_expect(t, baggage=head_dsc(t.n, release="locust@2.0", public_key="c" * 32)).bundle()],
    ),
    Broken(
        "sampling",
        "sampling_contradiction",
        "the DSC says sampled although sample_rand 0.9 is not below sample_rate 0.5",
        lambda t: [_both_dsc(t, sample_rate="0.5", sample_rand="0.9").bundle()],
    ),
    Broken(
        "sampling",
        "sampling_contradiction",
        "the caller recorded a sampled trace although its own numbers say unsampled",
        lambda t: [_expect(t, sample_rand=0.9, sample_rate=0.5).bundle()],
    ),
    Broken("sampling", "unsampled_sent", "an unsampled trace sent its transactions anyway", _unsampled),
    Broken(
        "errors",
        "missing_error",
        "downstream should have reported an error for this trace, and did not",
        lambda t: [_expect(t, expect_errors_from=("downstream",)).bundle()],
    ),
    Broken(
        "errors",
        "error_without_trace",
        "downstream reported the error raised in its transaction, without the trace id",
        lambda t: [
            replace(
                _expect(t, expect_errors_from=("downstream",)), errors=(replace(error_event(t), trace_id=None),)
            ).bundle()
        ],
    ),
    Broken(
        "db_spans",
        "missing_db_span",
        "the downstream transaction succeeded without a db span",
        lambda t: [_downstream(t, spans=()).bundle()],
    ),
    Broken(
        "timing",
        "clock_skew",
        "the downstream transaction starts half a second before the call that caused it",
        lambda t: [_downstream(t, start=T0 + 0.06 - 0.5).bundle()],
    ),
    Broken(
        "witness",
        "witness_mismatch",
        "downstream says, at the wire, it received another trace id than its envelope carries",
        _witness_of_another_trace,
    ),
    Broken(
        "witness",
        "witness_unsampled",
        "downstream says it was told the trace is unsampled, which the caller had sampled",
        _witness_told_unsampled,
    ),
    Broken(
        "timing",
        "clock_skew",
        "a db span ends a second after its transaction",
        lambda t: [replace(t, api=with_span(t.api, span_id(t.n, API_DB), end=T0 + 1.2)).bundle()],
    ),
    Broken(
        "sdk_pitfalls",
        "shared_trace",
        "two requests of api, announced by nobody, share a trace under a span no item holds",
        _shared_trace,
    ),
]


def test_a_healthy_trace_has_no_findings() -> None:
    report = run(healthy_trace().bundle())

    assert report.findings == ()
    assert report.ok


@pytest.mark.parametrize("case", CATALOGUE, ids=[f"{c.kind}: {c.story}" for c in CATALOGUE])
def test_a_broken_trace_is_reported_as_exactly_its_failure_class(case: Broken) -> None:
    trace = healthy_trace()

    report = run(*case.breaks(trace))

    assert kinds(report, trace.trace_id) == [(case.check, case.kind)]
    assert all(f.trace_id == trace.trace_id for f in report.findings), "the fault is reported once, in its trace"
    assert not report.ok


def test_the_catalogue_breaks_every_check_in_every_way() -> None:
    covered = {(c.check, c.kind) for c in CATALOGUE}
    notes = {
        ("completeness", "call_not_reached"),  # owes nothing: tested in test_verdicts
        ("sdk_pitfalls", "sdk_own_dsn_call"),  # a note: tested in test_sdk_pitfalls
    }

    assert covered | notes == {(check, kind) for check, ks in FINDING_KINDS.items() for kind in ks}


def test_the_healthy_fixture_is_the_documented_two_hop_shape() -> None:
    t = healthy_trace()
    assert t.api is not None and t.downstream is not None

    call = next(s for s in t.api.spans if s.op == "http.client")

    assert t.downstream.parent_span_id == call.span_id == span_id(t.n, CALL)
    assert {s.op for s in t.api.spans} == {"db", "http.client"}
    assert [s.span_id for s in t.downstream.spans] == [span_id(t.n, DOWNSTREAM_DB)]
    assert t.api.dsc == t.downstream.dsc and t.api.dsc is not None and t.api.dsc["public_key"] == API_KEY
    assert isinstance(t.expectation, ExpectationFact) and t.downstream.span_id == span_id(t.n, DOWNSTREAM_TX)
