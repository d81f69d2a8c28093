"""The witness check: what the called services said, at the wire, they received.

Each sandbox service answers every request with the `sentry-trace` it received (the
`x-sandbox-received-trace` response header); api hands those back to its caller, and Locust
records them with the expectation (see `relay_mock.verify.model.WitnessFact`). That proves
propagation independently of the SDK's transport: a witness naming another trace, another
parent or another sampling decision is a propagation failure even when no envelope arrived,
and a matching witness beside a lost envelope makes the loss a delivery loss (completeness
says so in its finding).
"""

from __future__ import annotations

from relay_mock.verify.report import Finding
from relay_mock.verify.view import TraceView


def check_witnesses(view: TraceView) -> list[Finding]:
    witnesses = view.witnesses
    exp = view.bundle.expectation
    if not witnesses or exp is None:
        return []
    findings = []
    # A service received as its parent one of the trace's call spans, or, for the head, the
    # external caller's span (the one the head's transaction names as its parent).
    parents = set(view.calls)
    if view.root is not None and view.root.parent_span_id is not None:
        parents.add(view.root.parent_span_id)
    for witness in witnesses:
        if witness.received is None:
            continue  # the call got no answer: nothing was witnessed
        if id(witness) in view.format_witnesses:
            continue  # a propagation-format break (linkage) explains what this service received
        trace_id, parent, sampled = witness.parts
        who = witness.service or "the called service"
        problems = []
        unsampled = False
        if not witness.received:
            problems.append("no sentry-trace header at all")
        else:
            if trace_id != view.trace_id:
                problems.append(f"trace {trace_id}")
            if sampled is not None and sampled != exp.sampled:
                problems.append(f"sampled={sampled} where the caller decided sampled={exp.sampled}")
                unsampled = exp.sampled
            # The parent can be checked only against calls that arrived (the caller's transaction).
            if view.calls and parent is not None and parent not in parents and trace_id == view.trace_id:
                problems.append(f"parent span {parent}, which is none of the trace's call spans")
        if problems:
            # Told "unsampled" and nothing else wrong: what an overloaded head's backpressure
            # does (see `backpressure`), which may explain it; anything else is broken propagation.
            kind = "witness_unsampled" if unsampled and len(problems) == 1 else "witness_mismatch"
            findings.append(
                view.finding(
                    "witness",
                    kind,
                    f"{who} received {'; '.join(problems)}: propagation failed at the wire",
                    expected=f"{view.trace_id}-<one of {sorted(parents) or 'the call spans'}>-{int(exp.sampled)}",
                    observed=repr(witness.received),
                    items=view.transactions,
                    service=witness.service,
                )
            )
    return findings
