"""Fault injection on the ingest path, so users can watch their SDK cope.

A rule answers matching ingest requests with a 429 rate limit (with `Retry-After` and
`X-Sentry-Rate-Limits` for chosen categories), another status (413, 500, 503...),
added latency, or a dropped connection. It applies to the next N requests, to a
fraction of them, or for a duration, optionally for one project only. Rules live in
memory: a restart clears them.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from relay_mock.store.values import iso

Action = Literal["rate_limit", "status", "latency", "drop"]

# Envelope item type → the data category rate limits name (Relay's mapping).
CATEGORY_OF_ITEM = {
    "event": "error",
    "transaction": "transaction",
    "session": "session",
    "sessions": "session",
    "attachment": "attachment",
    "profile": "profile",
    "profile_chunk": "profile_chunk",
    "check_in": "monitor",
    "log": "log_item",
    "span": "span",
    "replay_event": "replay",
    "replay_recording": "replay",
    "replay_video": "replay",
    "feedback": "feedback",
    "user_report": "user_report",
    "trace_metric": "trace_metric",
    "statsd": "metric_bucket",
    "metric_buckets": "metric_bucket",
}
# Client reports are never rate limited: they are how the SDK tells what it lost.
NEVER_LIMITED = frozenset({"client_report"})


@dataclass
class FaultRule:
    id: str
    action: Action
    status: int
    categories: tuple[str, ...] = ()
    retry_after: int = 60
    latency_ms: int = 0
    project: int | None = None
    remaining: int | None = None
    fraction: float | None = None
    expires_at: float | None = None
    created_at: float = field(default_factory=time.time)
    hits: int = 0

    def describe(self) -> str:
        what = {
            "rate_limit": f"429 for {', '.join(self.categories) or 'all categories'} (retry after {self.retry_after}s)",
            "status": f"answer {self.status}",
            "latency": f"add {self.latency_ms} ms",
            "drop": "drop the connection",
        }[self.action]
        scope = []
        if self.project is not None:
            scope.append(f"project {self.project}")
        if self.remaining is not None:
            scope.append(f"next {self.remaining} requests")
        if self.fraction is not None:
            scope.append(f"{self.fraction:.0%} of requests")
        if self.expires_at is not None:
            scope.append(f"until {iso(self.expires_at)}")
        return what + (f" ({'; '.join(scope)})" if scope else "")

    def rate_limit_header(self) -> bytes:
        """`X-Sentry-Rate-Limits`: seconds:categories:scope (integer seconds; the SDK ignores others)."""
        return f"{self.retry_after}:{';'.join(self.categories)}:key".encode()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "action": self.action,
            "status": self.status,
            "categories": list(self.categories),
            "retry_after": self.retry_after,
            "latency_ms": self.latency_ms,
            "project": self.project,
            "remaining": self.remaining,
            "fraction": self.fraction,
            "expires_at": iso(self.expires_at) if self.expires_at else None,
            "created_at": iso(self.created_at),
            "hits": self.hits,
            "description": self.describe(),
        }


@dataclass(frozen=True)
class FaultDecision:
    """What the matching rules decided for one request."""

    latency_ms: int = 0
    rule: FaultRule | None = None  # the refusing rule (rate_limit, status or drop), if any


class FaultRules:
    def __init__(self) -> None:
        self._rules: dict[str, FaultRule] = {}
        self._ids = itertools.count(1)

    def add(
        self,
        *,
        action: Action,
        status: int,
        categories: Sequence[str] | None = None,
        retry_after: int = 60,
        latency_ms: int = 0,
        project: int | None = None,
        count: int | None = None,
        fraction: float | None = None,
        duration_s: float | None = None,
    ) -> FaultRule:
        """A rule from a valid spec (models.FaultRuleSpec checks it: POST /inspect/faults)."""
        rule = FaultRule(
            id=f"f{next(self._ids)}",
            action=action,
            status=status,
            categories=tuple(categories or ()),
            retry_after=retry_after,
            latency_ms=latency_ms,
            project=project,
            remaining=count,
            fraction=fraction,
            expires_at=time.time() + duration_s if duration_s is not None else None,
        )
        self._rules[rule.id] = rule
        return rule

    def remove(self, rule_id: str) -> bool:
        return self._rules.pop(rule_id, None) is not None

    def clear(self) -> None:
        self._rules.clear()

    def list(self) -> list[FaultRule]:
        self._expire()
        return list(self._rules.values())

    def __bool__(self) -> bool:
        return bool(self._rules)

    def before_body(self, project_id: int | None) -> FaultDecision:
        """Rules that need no look at the envelope: latency (all matching rules add up)
        and refusals that apply whatever the content (the first matching one wins)."""
        self._expire()
        latency = 0
        refusing: FaultRule | None = None
        for rule in list(self._rules.values()):
            if rule.action == "rate_limit" and rule.categories:
                continue
            if rule.action != "latency" and refusing is not None:
                continue
            if self._fires(rule, project_id):
                if rule.action == "latency":
                    latency += rule.latency_ms
                else:
                    refusing = rule
        return FaultDecision(latency_ms=latency, rule=refusing)

    def after_parse(self, project_id: int | None, item_types: Sequence[str]) -> FaultRule | None:
        """Rate limits for categories: they refuse an envelope that holds a limited item."""
        categories = {CATEGORY_OF_ITEM.get(t, t) for t in item_types if t not in NEVER_LIMITED}
        for rule in list(self._rules.values()):
            if rule.action != "rate_limit" or not rule.categories or not categories & set(rule.categories):
                continue
            if self._fires(rule, project_id):
                return rule
        return None

    def _fires(self, rule: FaultRule, project_id: int | None) -> bool:
        if rule.project is not None and rule.project != project_id:
            return False
        if rule.fraction is not None and random.random() >= rule.fraction:  # noqa: S311 - not security
            return False
        rule.hits += 1
        if rule.remaining is not None:
            rule.remaining -= 1
            if rule.remaining <= 0:
                self._rules.pop(rule.id, None)
        return True

    def _expire(self) -> None:
        now = time.time()
        for rule in list(self._rules.values()):
            if rule.expires_at is not None and rule.expires_at <= now:
                self._rules.pop(rule.id, None)
