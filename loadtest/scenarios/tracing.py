"""Every request Locust sends starts a trace whose id Locust chose, like a browser SDK
at the head of a distributed trace would."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass


@dataclass(frozen=True)
class StartedTrace:
    trace_id: str
    span_id: str
    sampled: bool
    sample_rand: float
    sample_rate: float

    def headers(self) -> dict[str, str]:
        flag = "1" if self.sampled else "0"
        baggage = ",".join(
            [
                f"sentry-trace_id={self.trace_id}",
                f"sentry-sample_rand={self.sample_rand:.6f}",
                f"sentry-sample_rate={self.sample_rate}",
                f"sentry-sampled={'true' if self.sampled else 'false'}",
                "sentry-environment=loadtest",
                "sentry-release=locust@1",
            ]
        )
        return {"sentry-trace": f"{self.trace_id}-{self.span_id}-{flag}", "baggage": baggage}


def start_trace(sample_rate: float = 1.0) -> StartedTrace:
    sample_rand = random.random()  # noqa: S311 - sampling, not security
    return StartedTrace(
        trace_id=secrets.token_hex(16),
        span_id=secrets.token_hex(8),
        sampled=sample_rand < sample_rate,
        sample_rand=sample_rand,
        sample_rate=sample_rate,
    )
