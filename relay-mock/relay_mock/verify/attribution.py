"""Which missing items a counted cause may explain: drops the SDKs reported, requests
relay-mock refused.

A reported drop or refusal explains a loss only when all of these hold:
- the same project (the service whose item is missing);
- the same data category (a lost transaction needs a dropped `transaction`; a refusal counts
  only the items of that category its body held; a refusal whose body could not be parsed
  explains nothing);
- inside the trace's time: received from `attribution_before_s` before the trace started to
  `flush_delay_s` after it ended, and not after UNTIL (`VerifyConfig.until`);
- each reported unit explains at most one loss. Losses are taken oldest first and each takes the
  earliest unit still in its window.
A loss explained this way makes its trace `unverified`, with the cause named; one that nothing
explains fails it. When the head lost the trace to backpressure (its own loss explained by a
counted `backpressure` unit), the services after it lost theirs because the head told them the
trace was unsampled: those follow from the head's unit and take none of their own.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from relay_mock.verify.model import ClientReportFact, RefusalFact, VerifyConfig
from relay_mock.verify.report import Finding

# Client report reasons that mean "the SDK meant to send it and could not". Deliberate drops
# (sample_rate, before_send, event_processor...) explain nothing: those items were never owed;
# except `sample_rate` where a witness proves the head turned away a trace its caller sampled
# (backpressure that had eased by the time the transaction ended; see `backpressure`).
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
BACKPRESSURE = "sdk:backpressure"
SAMPLED_OUT = "sample_rate"  # a pool kept apart: only for losses the head's own sampling caused
# The labels of a head's loss to its own sampling decision: the services after it follow.
HEAD_SAMPLING = frozenset({BACKPRESSURE, f"sdk:{SAMPLED_OUT}"})
# The finding kinds that describe a lost item, and the client report category of that item.
CATEGORY_OF_KIND = {"missing_transaction": "transaction", "missing_error": "error"}
# Envelope item types -> client report data categories.
CATEGORY_OF_ITEM = {"transaction": "transaction", "event": "error", "span": "span"}


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
        # Losses come by window start, so a drop too old for this loss is too old for every later one.
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


@dataclass(frozen=True)
class Window:
    """A trace's time, for matching drops to its losses, and its head service."""

    start: float
    end: float
    head: str | None


def attribute(
    findings: list[Finding],
    windows: Mapping[str, Window],
    *,
    client_reports: Iterable[ClientReportFact],
    refusals: Iterable[RefusalFact],
    config: VerifyConfig,
    allowed: Callable[[Finding], Collection[str]] = lambda loss: LOSS_REASONS,
) -> list[Finding]:
    """Return `findings` with `attributed_to` set on the losses counted causes explain.

    `allowed(loss)` names the reasons that may explain that loss (by default `LOSS_REASONS`).
    """
    losses = [
        f
        for f in findings
        if f.kind in CATEGORY_OF_KIND and f.service is not None and f.attributed_to is None and not f.note
    ]
    if not losses:
        return findings

    def order(f: Finding) -> tuple[float, str, int, tuple[str, str, str, str, tuple[str, ...]]]:
        window = windows[f.trace_id]
        # The head's loss first: the losses after it may follow from it.
        return (window.start, f.trace_id, 0 if f.service == window.head else 1, f.sort_key())

    losses.sort(key=order)
    until = config.until
    sdk_drops = _sdk_drops(r for r in client_reports if until is None or r.received_at <= until)
    relay_drops = _relay_drops(r for r in refusals if until is None or r.received_at <= until)
    labels: dict[int, str] = {}
    head_sampled_out: dict[str, str] = {}  # trace id -> the label of the head's sampling loss
    # The traces whose losses only some reasons may explain go first: a loss any drop may
    # explain must not take the one kind of unit a constrained loss could use.
    constrained = {f.trace_id for f in losses if set(allowed(f)) != LOSS_REASONS}
    for batch in (
        [f for f in losses if f.trace_id in constrained],
        [f for f in losses if f.trace_id not in constrained],
    ):
        # Fresh pools over the same drops (their remaining units carry over) for each pass.
        sdk = {key: {reason: Pool(d) for reason, d in by_reason.items()} for key, by_reason in sdk_drops.items()}
        relay = {key: Pool(d) for key, d in relay_drops.items()}
        for loss in batch:
            window = windows[loss.trace_id]
            if loss.service != window.head and loss.trace_id in head_sampled_out:
                # Told the trace was unsampled: a deliberate drop, following the head's.
                labels[id(loss)] = head_sampled_out[loss.trace_id]
                continue
            lo = window.start - config.attribution_before_s
            hi = window.end + config.flush_delay_s
            label = _explain(loss, lo, hi, sdk, relay, config, allowed(loss))
            if label is not None:
                labels[id(loss)] = label
                if label in HEAD_SAMPLING and loss.service == window.head:
                    head_sampled_out[loss.trace_id] = label
    return [replace(f, attributed_to=labels[id(f)]) if id(f) in labels else f for f in findings]


def _explain(
    loss: Finding,
    lo: float,
    hi: float,
    sdk: dict[tuple[str, str], dict[str, Pool]],
    relay: dict[tuple[int, str], Pool],
    config: VerifyConfig,
    allowed: Collection[str],
) -> str | None:
    project, category = str(loss.service), CATEGORY_OF_KIND[loss.kind]
    reasons = sdk.get((project, category), {})
    # A refusal names the cause (an injected fault, a limit), so it is preferred to the SDK's echo.
    project_id = config.project_ids.get(project)
    pool = relay.get((project_id, category)) if project_id is not None else None
    refused = pool.take(lo, hi) if pool is not None else None
    if refused is not None:
        if refused.status != 429:  # the SDK also counts a refused send, except a 429 (Relay counted it)
            echo = reasons.get("send_error" if refused.status == 413 else "network_error")
            if echo is not None:
                echo.take(lo, hi)
        return refused.label
    candidates = [
        (drop.at, reason, pool)
        for reason, pool in reasons.items()
        if reason in allowed and (drop := pool.peek(lo, hi)) is not None
    ]
    if not candidates:
        return None
    _, _, chosen = min(candidates, key=lambda c: (c[0], c[1]))
    drop = chosen.take(lo, hi)
    return drop.label if drop is not None else None


def _sdk_drops(reports: Iterable[ClientReportFact]) -> dict[tuple[str, str], dict[str, list[Drop]]]:
    """Drops per (project, category), then per reason."""
    drops: dict[tuple[str, str], dict[str, list[Drop]]] = {}
    for r in reports:
        if (r.reason in LOSS_REASONS or r.reason == SAMPLED_OUT) and r.quantity > 0:
            by_reason = drops.setdefault((r.project, r.category), {})
            by_reason.setdefault(r.reason, []).append(Drop(r.received_at, f"sdk:{r.reason}", r.quantity))
    return drops


def _relay_drops(refusals: Iterable[RefusalFact]) -> dict[tuple[int, str], list[Drop]]:
    """Drops per (project id, category): one unit per refused item of that category. A refusal
    whose body could not be parsed (`item_types` None) says nothing about what it lost."""
    drops: dict[tuple[int, str], list[Drop]] = {}
    for r in refusals:
        if r.project_id is None or r.item_types is None:
            continue
        counts: dict[str, int] = {}
        for item_type in r.item_types:
            category = CATEGORY_OF_ITEM.get(item_type)
            if category is not None:
                counts[category] = counts.get(category, 0) + 1
        for category, quantity in counts.items():
            drops.setdefault((r.project_id, category), []).append(
                Drop(r.received_at, f"relay:{r.reason}", quantity, r.status)
            )
    return drops
