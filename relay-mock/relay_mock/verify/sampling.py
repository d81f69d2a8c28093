"""The checks on the dynamic sampling context (DSC): one DSC per trace, frozen by the head and
copied unchanged by every hop, whose sampling decision agrees with its own numbers.
"""

from __future__ import annotations

import json
from typing import Any

from relay_mock.verify.report import Finding
from relay_mock.verify.view import TraceView

DSC_CONTRADICTION = "the DSC's sampled flag contradicts its sample_rand and sample_rate"


def check_dsc(view: TraceView) -> list[Finding]:
    """All envelopes carry the one DSC the head froze, and it names the head."""
    reference = view.dsc
    if reference is None:
        return []
    findings = []
    differing = [i for i in view.envelopes if i.dsc is not None and i.dsc != reference]
    if differing:
        message = f"{len(differing)} envelope(s) carry a DSC other than the head's"
        findings.append(
            view.finding(
                "dsc",
                "dsc_mismatch",
                message,
                expected=_json(reference),
                observed=_json(differing[0].dsc),
                items=differing,
            )
        )
    problem = _wrong_head(view, reference)
    if problem is not None:
        expected, observed = problem
        findings.append(
            view.finding(
                "dsc",
                "dsc_wrong_head",
                "the DSC does not name the head of the trace",
                expected=expected,
                observed=observed,
                items=[i for i in view.envelopes if i.dsc == reference],
            )
        )
    return findings


def _wrong_head(view: TraceView, dsc: dict[str, Any]) -> tuple[str, str] | None:
    """(expected, observed) when the DSC does not name the head, else None."""
    expectation = view.bundle.expectation
    if expectation is not None and expectation.baggage is not None:
        # The caller is the head: its baggage is the DSC, copied unchanged.
        return None if dsc == expectation.baggage else (_json(expectation.baggage), _json(dsc))
    root = view.root
    head = view.head_service
    key = view.config.public_keys.get(head) if head is not None else None
    if expectation is None and dsc.get("public_key") not in set(view.config.public_keys.values()):
        # Found in the store only, and headed by something outside relay-mock's projects (a
        # browser, a load generator whose record is missing): its DSC is whatever its head sent.
        return None
    if root is not None and root.project != head:
        root = None  # the head's transaction is lost: nothing to compare release and environment with
    names_root = root is None or (dsc.get("release") == root.release and dsc.get("environment") == root.environment)
    if names_root and (key is None or dsc.get("public_key") == key):
        return None
    wanted: dict[str, Any] = {}
    if root is not None:
        wanted |= {"release": root.release, "environment": root.environment}
    if key is not None:
        wanted["public_key"] = key
    return _json(wanted), _json({name: dsc.get(name) for name in wanted})


def check_sampling(view: TraceView) -> list[Finding]:
    """The sampling decision follows from sample_rand < sample_rate, and unsampled traces stay home."""
    findings = []
    dsc = view.dsc
    if dsc is not None and _contradicts(dsc.get("sampled"), dsc.get("sample_rand"), dsc.get("sample_rate")):
        observed = (
            f"sampled={dsc.get('sampled')} sample_rand={dsc.get('sample_rand')} sample_rate={dsc.get('sample_rate')}"
        )
        findings.append(
            view.finding(
                "sampling",
                "sampling_contradiction",
                DSC_CONTRADICTION,
                expected="sampled == (sample_rand < sample_rate)",
                observed=observed,
                items=view.transactions,
            )
        )
    exp = view.bundle.expectation
    if exp is not None and _contradicts(exp.sampled, exp.sample_rand, exp.sample_rate):
        findings.append(
            view.finding(
                "sampling",
                "sampling_contradiction",
                "the caller's sampling decision contradicts its sample_rand and sample_rate",
                expected="sampled == (sample_rand < sample_rate)",
                observed=f"sampled={exp.sampled} sample_rand={exp.sample_rand} sample_rate={exp.sample_rate}",
            )
        )
    dsc_unsampled = dsc is not None and _flag(dsc.get("sampled")) is False
    if view.transactions and ((exp is not None and not exp.sampled) or dsc_unsampled):
        message = f"{len(view.transactions)} transaction(s) of an unsampled trace arrived"
        observed = ", ".join(f"{tx.project} {tx.name}" for tx in view.transactions)
        findings.append(
            view.finding(
                "sampling", "unsampled_sent", message, expected="none", observed=observed, items=view.transactions
            )
        )
    return findings


def _contradicts(sampled: Any, sample_rand: Any, sample_rate: Any) -> bool:
    if sampled is None or sample_rand is None or sample_rate is None:
        return False  # nothing to compare: the SDK leaves out what it has not decided
    try:
        decided = float(sample_rand) < float(sample_rate)
    except (TypeError, ValueError):
        return True  # a DSC value that is not a number contradicts any decision
    return _flag(sampled) is not decided


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    return True if text == "true" else False if text == "false" else None


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
