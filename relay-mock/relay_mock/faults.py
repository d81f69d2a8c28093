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
MAX_PROJECT_ID = 2**63 - 1
ACTIONS = ("rate_limit", "status", "latency", "drop")

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


class RuleError(ValueError):
    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field_name = field_name
        self.message = message


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

    def add(self, spec: dict[str, Any]) -> FaultRule:
        rule = _parse_rule(spec, f"f{next(self._ids)}")
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


def _parse_rule(spec: dict[str, Any], rule_id: str) -> FaultRule:
    if not isinstance(spec, dict):
        raise RuleError("body", "expected a JSON object")
    unknown = set(spec) - {
        "action",
        "status",
        "categories",
        "retry_after",
        "latency_ms",
        "project",
        "count",
        "remaining",
        "fraction",
        "duration_s",
    }
    if unknown:
        raise RuleError(sorted(unknown)[0], "unknown field")
    action = spec.get("action")
    if action not in ACTIONS:
        raise RuleError("action", f"one of {', '.join(ACTIONS)}")
    status = _int(spec, "status", {"rate_limit": 429, "status": 503, "latency": 200, "drop": 0}[action], 0, 599)
    if action == "status" and not 400 <= status <= 599:
        raise RuleError("status", "a 4xx or 5xx status")
    categories = spec.get("categories")
    categories = [] if categories is None else categories  # not `or []`: {} and "" are no list either
    if not isinstance(categories, list) or not all(isinstance(c, str) and c for c in categories):
        raise RuleError("categories", 'a list of category names, e.g. ["transaction"]')
    latency_ms = _int(spec, "latency_ms", 0, 0, 120_000)
    if action == "latency" and latency_ms <= 0:
        raise RuleError("latency_ms", "a positive number of milliseconds")
    remaining = spec.get("count")
    if remaining is None:  # `count` and `remaining` are two names of one field
        remaining = spec.get("remaining")
    if remaining is not None:
        remaining = _int({"count": remaining}, "count", 1, 1, 10_000_000)
    fraction = spec.get("fraction")
    if fraction is not None and (not isinstance(fraction, (int, float)) or not 0 < fraction <= 1):
        raise RuleError("fraction", "a number in (0, 1]")
    duration = spec.get("duration_s")
    if duration is not None and (not isinstance(duration, (int, float)) or not 0 < duration <= 86_400):
        raise RuleError("duration_s", "seconds in (0, 86400]")
    project = spec.get("project")
    if project is not None:
        integral = isinstance(project, int) or (isinstance(project, float) and project.is_integer())
        # Bounded: a rule is sent back as JSON, and orjson encodes 64-bit integers only.
        if isinstance(project, bool) or not integral or not 0 <= project <= MAX_PROJECT_ID:
            raise RuleError("project", f"a numeric project id, 0 to {MAX_PROJECT_ID}")
        project = int(project)
    return FaultRule(
        id=rule_id,
        action=action,
        status=status,
        categories=tuple(categories),
        retry_after=_int(spec, "retry_after", 60, 1, 86_400),
        latency_ms=latency_ms,
        project=project,
        remaining=remaining,
        fraction=float(fraction) if fraction is not None else None,
        expires_at=time.time() + duration if duration is not None else None,
    )


def _int(spec: dict[str, Any], name: str, default: int, low: int, high: int) -> int:
    value = spec.get(name, default)
    # JSON has one number type: 429.0 is an integer too (JSON Schema says so).
    integral = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if not integral or isinstance(value, bool) or not low <= value <= high:
        raise RuleError(name, f"an integer between {low} and {high}")
    return int(value)
