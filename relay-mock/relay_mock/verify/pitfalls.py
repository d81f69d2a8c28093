"""Two things an SDK does that confuse anyone reading a trace, named with their evidence.

- `shared_trace`: independent requests of one service in one trace that no caller announced (no
  expectation: the service heads it). Two or more of a service's transactions (or segment
  spans) hang under the same span that no item of the trace holds (or under none), with no call
  of the trace leading to them: nothing caused one request from the other, they only share the
  propagation context the SDK kept between them. sentry-python 3
  does this under FastAPI's TestClient (each request without trace headers continues the test's
  never-sent propagation context); under a server each request gets its own trace.
- `sdk_own_dsn_call` (a note): a span of an HTTP call to Sentry's ingest (`/api/<project>/envelope/`
  and its siblings): the SDK sending its own envelopes, recorded by the HTTP client's integration
  as part of the request being served.

Registered at import (`register_check`), like any check added to the verifier.
"""

from __future__ import annotations

import re
from collections import defaultdict

from relay_mock.verify.checks import register_check
from relay_mock.verify.model import TransactionFact
from relay_mock.verify.report import Finding
from relay_mock.verify.view import TraceView

CHECK = "sdk_pitfalls"
SHARED_TRACE = "shared_trace"
OWN_DSN_CALL = "sdk_own_dsn_call"

# The ingest endpoints an SDK posts to: /api/<project id>/envelope/ (and the older store,
# security, minidump and unreal endpoints).
INGEST_PATH = re.compile(r"/api/\d+/(?:envelope|store|security|minidump|unreal)/")


def check_sdk_pitfalls(view: TraceView) -> list[Finding]:
    return [*_shared_trace(view), *_own_dsn_calls(view)]


def _shared_trace(view: TraceView) -> list[Finding]:
    # A trace someone announced (a load generator's expectation) has a head outside the services:
    # two requests under its span are two calls of that caller (a retry), not a shared context.
    if view.bundle.expectation is not None:
        return []
    known = set(view.spans)
    heads: dict[tuple[str, str | None], list[TransactionFact]] = defaultdict(list)
    for tx in view.transactions:
        # A parent the trace holds is a causal link (a call span, or a span of another request).
        if tx.parent_span_id is None or tx.parent_span_id not in known:
            heads[(tx.project, tx.parent_span_id)].append(tx)
    findings = []
    for (service, parent), requests in sorted(heads.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        if len(requests) < 2:
            continue
        names = ", ".join(f"{tx.name} ({tx.span_id})" for tx in sorted(requests, key=lambda tx: tx.start or 0.0))
        under = f"span {parent}, which no item of the trace holds" if parent else "no parent"
        findings.append(
            view.finding(
                CHECK,
                SHARED_TRACE,
                f"{len(requests)} independent requests of {service} share this trace under {under}: {names}."
                " No call links them; their SDK reused one propagation context (sentry-python 3 under"
                " FastAPI's TestClient does, a server gives each request its own trace)",
                expected=f"one request of {service} per trace it heads, or a call span leading to each",
                observed=f"{len(requests)} requests of {service} under {parent or 'no parent'}",
                items=requests,
                service=service,
                span_id=requests[1].span_id,
            )
        )
    return findings


def _own_dsn_calls(view: TraceView) -> list[Finding]:
    findings = []
    for tx in view.transactions:
        for span in tx.spans:
            if not (span.op or "").startswith("http") or not INGEST_PATH.search(span.description or ""):
                continue
            findings.append(
                view.finding(
                    CHECK,
                    OWN_DSN_CALL,
                    f"{tx.project}'s {tx.name} holds the SDK's own envelope POST: {span.description}"
                    " (the HTTP client's integration recorded the SDK sending to its DSN; not a call"
                    " of the request)",
                    expected="no span of the SDK's own sending",
                    observed=f"{span.op} span {span.span_id}: {span.description}",
                    items=[tx],
                    service=tx.project,
                    note=True,
                    span_id=span.span_id,
                )
            )
    return findings


register_check(CHECK, check_sdk_pitfalls, kinds=(SHARED_TRACE, OWN_DSN_CALL))
