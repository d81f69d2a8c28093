"""Which missing items are explained by drops the SDK reported or by requests relay-mock refused.

A missing transaction or error is a lost item, not a propagation failure, when its project's SDK
reported dropping something of that category, or relay-mock refused one of that project's
requests, inside the loss's window (see `VerifyConfig.attribution_before_s`). Drops are aggregate
counts per project and reason, never per trace, so each dropped unit explains at most one loss.
Losses are taken oldest first and each takes the earliest drop still in its window; with windows
of equal length that explains as many losses as the counts allow.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from relay_mock.verify.model import ClientReportFact, RefusalFact, VerifyConfig
from relay_mock.verify.report import Finding

# Client report reasons that mean "the SDK meant to send it and could not". Deliberate drops
# (sample_rate, before_send, event_processor...) explain nothing: those items were never owed.
LOSS_REASONS = frozenset(
    {
        "queue_overflow",
        "ratelimit_backoff",
        "network_error",
        "send_error",
        "rate_limited",
        "cache_overflow",
        "buffer_overflow",
        # Not deliberate either: the caller sampled the trace and the SDK, overloaded, turned it
        # away (see `backpressure`, which also says when it cannot be the cause).
        "backpressure",
    }
)
# The finding kinds that describe a lost item, and the client report category of that item.
CATEGORY_OF_KIND = {"missing_transaction": "transaction", "missing_error": "error"}


@dataclass
class Drop:
    at: float
    label: str
    remaining: int
    status: int | None = None  # the HTTP status, for relay refusals


class Pool:
    """Drops of one kind in time order, consumed from the front as the losses' windows move on."""

    def __init__(self, drops: Iterable[Drop]) -> None:
        self._drops = deque(sorted(drops, key=lambda d: d.at))

    def peek(self, lo: float, hi: float) -> Drop | None:
        # Losses come oldest first, so a drop too old for this loss is too old for every later one.
        while self._drops and (self._drops[0].at < lo or self._drops[0].remaining <= 0):
            self._drops.popleft()
        if self._drops and self._drops[0].at <= hi:
            return self._drops[0]
        return None

    def take(self, lo: float, hi: float) -> Drop | None:
        drop = self.peek(lo, hi)
        if drop is not None:
            drop.remaining -= 1
        return drop


def attribute(
    findings: list[Finding],
    started_at: Mapping[str, float],
    *,
    client_reports: Iterable[ClientReportFact],
    refusals: Iterable[RefusalFact],
    config: VerifyConfig,
    ruled_out: Callable[[Finding], Collection[str]] = lambda loss: (),
) -> list[Finding]:
    """Return `findings` with `attributed_to` set on the losses that reported drops explain.

    `ruled_out(loss)` names the reasons that cannot explain that loss, whatever their counts.
    """
    losses = [f for f in findings if f.kind in CATEGORY_OF_KIND and f.service is not None and f.attributed_to is None]
    if not losses:
        return findings
    losses.sort(key=lambda f: (started_at[f.trace_id], f.sort_key()))
    sdk = _sdk_pools(client_reports)
    relay = _relay_pools(refusals)
    labels: dict[int, str] = {}
    for loss in losses:
        start = started_at[loss.trace_id]
        lo = start - config.attribution_before_s
        hi = math.inf if config.attribution_after_s is None else start + config.attribution_after_s
        label = _explain(loss, lo, hi, sdk, relay, config, ruled_out(loss))
        if label is not None:
            labels[id(loss)] = label
    return [replace(f, attributed_to=labels[id(f)]) if id(f) in labels else f for f in findings]


def _explain(
    loss: Finding,
    lo: float,
    hi: float,
    sdk: dict[tuple[str, str], dict[str, Pool]],
    relay: dict[int, Pool],
    config: VerifyConfig,
    ruled_out: Collection[str],
) -> str | None:
    project, category = str(loss.service), CATEGORY_OF_KIND[loss.kind]
    reasons = sdk.get((project, category), {})
    # A refusal names the cause (an injected fault, a limit), so it is preferred to the SDK's echo.
    project_id = config.project_ids.get(project)
    refused = relay[project_id].take(lo, hi) if project_id in relay else None
    if refused is not None:
        if refused.status != 429:  # the SDK also counts a refused send, except a 429 (Relay counted it)
            echo = reasons.get("send_error" if refused.status == 413 else "network_error")
            if echo is not None:
                echo.take(lo, hi)
        return refused.label
    candidates = [
        (drop.at, reason, pool)
        for reason, pool in reasons.items()
        if reason not in ruled_out and (drop := pool.peek(lo, hi)) is not None
    ]
    if not candidates:
        return None
    _, _, pool = min(candidates, key=lambda c: (c[0], c[1]))
    drop = pool.take(lo, hi)
    return drop.label if drop is not None else None


def _sdk_pools(reports: Iterable[ClientReportFact]) -> dict[tuple[str, str], dict[str, Pool]]:
    """Pools per (project, category), then per reason."""
    drops: dict[tuple[str, str], dict[str, list[Drop]]] = {}
    for r in reports:
        if r.reason in LOSS_REASONS and r.quantity > 0:
            by_reason = drops.setdefault((r.project, r.category), {})
            by_reason.setdefault(r.reason, []).append(Drop(r.received_at, f"sdk:{r.reason}", r.quantity))
    return {key: {reason: Pool(d) for reason, d in by_reason.items()} for key, by_reason in drops.items()}


def _relay_pools(refusals: Iterable[RefusalFact]) -> dict[int, Pool]:
    drops: dict[int, list[Drop]] = {}
    for r in refusals:
        if r.project_id is not None:
            drops.setdefault(r.project_id, []).append(Drop(r.received_at, f"relay:{r.reason}", 1, r.status))
    return {key: Pool(items) for key, items in drops.items()}
