"""Every request Locust sends starts a trace whose id Locust chose, the way a browser SDK
at the head of a distributed trace would: `sentry-trace` plus `baggage` carrying the
sampling decision and the head's dynamic sampling context. With LOCUST_PROPAGATION=w3c it
plays an OpenTelemetry client instead (W3C `traceparent` + `tracestate`, nothing of Sentry's);
`both` sends all four."""

from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass, field

from scenarios import config

# Locust's own entry in W3C tracestate (a vendor key and value, as an OTel client would add one).
TRACESTATE = "locust=sandbox"


@dataclass(frozen=True)
class StartedTrace:
    trace_id: str
    span_id: str
    sampled: bool
    sample_rand: float
    sample_rate: float
    started_at: float = field(default_factory=time.time)

    @property
    def baggage(self) -> dict[str, str]:
        """The sentry-* baggage values (without prefix), exactly as sent."""
        return {
            "trace_id": self.trace_id,
            "public_key": config.PUBLIC_KEY,
            "release": config.RELEASE,
            "environment": config.ENVIRONMENT,
            "sample_rate": _number(self.sample_rate),
            "sample_rand": f"{self.sample_rand:.6f}",
            "sampled": "true" if self.sampled else "false",
        }

    def headers(self, propagation: str | None = None) -> dict[str, str]:
        """The trace headers for `propagation` (LOCUST_PROPAGATION when None)."""
        propagation = propagation or config.PROPAGATION
        headers: dict[str, str] = {}
        if propagation in ("sentry", "both"):
            baggage = ",".join(f"sentry-{key}={value}" for key, value in self.baggage.items())
            flag = "1" if self.sampled else "0"
            headers |= {"sentry-trace": f"{self.trace_id}-{self.span_id}-{flag}", "baggage": baggage}
        if propagation in ("w3c", "both"):
            flags = "01" if self.sampled else "00"
            headers |= {"traceparent": f"00-{self.trace_id}-{self.span_id}-{flags}", "tracestate": TRACESTATE}
        return headers


def start_trace(sample_rate: float | None = None) -> StartedTrace:
    rate = config.SAMPLE_RATE if sample_rate is None else sample_rate
    # Six decimals on the wire: decide on the value the services will see.
    sample_rand = round(random.random(), 6) % 1.0  # noqa: S311 - sampling, not security
    return StartedTrace(
        trace_id=secrets.token_hex(16),
        span_id=secrets.token_hex(8),
        sampled=sample_rand < rate,
        sample_rand=sample_rand,
        sample_rate=rate,
    )


def _number(value: float) -> str:
    return repr(float(value))
