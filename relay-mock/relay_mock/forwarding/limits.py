"""An upstream's rate limits (`Retry-After`, `X-Sentry-Rate-Limits`) and its backoff after
failures, per upstream, in memory: what the forwarder must wait for before sending again."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

ALL = ""  # the category an unqualified limit applies to
BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 60.0
DEFAULT_RETRY_AFTER_S = 60.0


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

    def failed(self, now: float) -> float:
        """One more failure in a row: exponential backoff with jitter; returns when to try again."""
        self.failures += 1
        delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (self.failures - 1))
        self.backoff_until = now + delay * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security
        return self.backoff_until

    def succeeded(self) -> None:
        self.failures = 0
        self.backoff_until = 0.0
