"""An upstream's rate limits (`Retry-After`, `X-Sentry-Rate-Limits`) and its backoff after
failures, per upstream, in memory: what the forwarder must wait for before sending again."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

ALL = ""  # the category an unqualified limit applies to
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 60.0
DEFAULT_RETRY_AFTER_S = 60.0
# Failures in a row (no success between) that mean the upstream itself is down or overloaded: from
# then on it is left alone as a whole until its backoff passes, then probed with one envelope.
OUTAGE_FAILURES = 3


def backoff(failures: int) -> float:
    """Exponential backoff with jitter after `failures` failures in a row (>= 1), in seconds."""
    delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2.0 ** min(failures - 1, 30))
    return delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security


def parse_rate_limits(header: str | None, retry_after: str | None, now: float) -> dict[str, float]:
    """Category ("" = every category) → until when it is limited, from a 429's headers.

    `X-Sentry-Rate-Limits`: `seconds:cat;cat:scope[:reason[:namespaces]]`, comma-separated, an
    empty category list meaning all. Without it, `Retry-After` (seconds) limits everything."""
    limits: dict[str, float] = {}
    for entry in (header or "").split(","):
        seconds_part, _, rest = entry.strip().partition(":")
        try:
            seconds = float(seconds_part)
        except ValueError:
            continue
        category_part = rest.split(":", 1)[0]
        for category in category_part.split(";") if category_part else [ALL]:
            limits[category] = max(limits.get(category, 0.0), now + max(0.0, seconds))
    if not limits:
        try:
            seconds = float(retry_after) if retry_after else DEFAULT_RETRY_AFTER_S
        except ValueError:
            seconds = DEFAULT_RETRY_AFTER_S
        limits[ALL] = now + max(0.0, seconds)
    return limits


@dataclass
class UpstreamState:
    limits: dict[str, float] = field(default_factory=dict)
    failures: int = 0  # 5xx answers and connection failures in a row
    backoff_until: float = 0.0

    def limit(self, limits: dict[str, float]) -> None:
        for category, until in limits.items():
            self.limits[category] = max(self.limits.get(category, 0.0), until)

    def blocked_until(self, categories: set[str], now: float) -> float:
        """When an envelope of these categories may go (<= now: it may go now)."""
        until = self.backoff_until
        for category in (ALL, *categories):
            until = max(until, self.limits.get(category, 0.0))
        return until if until > now else 0.0

    def prune(self, now: float) -> None:
        """Forget the limits that have passed (none left: nothing needs looking at per envelope)."""
        if self.limits and max(self.limits.values()) <= now:
            self.limits.clear()

    def failed(self, now: float) -> None:
        """One more failure in a row; from OUTAGE_FAILURES on, the whole upstream backs off."""
        self.failures += 1
        if self.failures >= OUTAGE_FAILURES:
            self.backoff_until = max(self.backoff_until, now + backoff(self.failures - OUTAGE_FAILURES + 1))

    @property
    def out(self) -> bool:
        """Failing without a success between: send one envelope (a probe) before the rest."""
        return self.failures >= OUTAGE_FAILURES

    def succeeded(self) -> None:
        self.failures = 0
        self.backoff_until = 0.0
