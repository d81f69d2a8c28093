"""Load settings from the environment (documented in the README and .env.example)."""

from __future__ import annotations

import os


def _float(name: str, default: float, low: float, high: float) -> float:
    raw = os.environ.get(name, "")
    try:
        value = float(raw) if raw else default
    except ValueError:
        raise SystemExit(f"invalid configuration: {name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise SystemExit(f"invalid configuration: {name} must be between {low} and {high}, got {value}")
    return value


def _choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = os.environ.get(name, "") or default
    if value not in choices:
        raise SystemExit(f"invalid configuration: {name} must be one of {', '.join(choices)}, got {value!r}")
    return value


RELAY_URL = os.environ.get("RELAY_URL", "http://relay-mock:9000").rstrip("/")
RELAY_INSPECT_TOKEN = os.environ.get("RELAY_INSPECT_TOKEN", "")
# The head-of-trace sampling decision Locust makes for each trace it starts.
SAMPLE_RATE = _float("LOCUST_SAMPLE_RATE", 1.0, 0.0, 1.0)
# Locust plays a browser SDK at the head of the trace: its baggage names this project's key.
# The playground project's (relay_mock/sandbox_projects.py; the Locust image carries no relay_mock,
# so tests/relay_mock/test_sandbox_projects.py holds the two equal).
PUBLIC_KEY = os.environ.get("LOCUST_SENTRY_PUBLIC_KEY", "c3d4e5f6a7b8091a2b3c4d5e6f708192")
RELEASE = os.environ.get("LOCUST_RELEASE", "locust@1.0.0")
ENVIRONMENT = os.environ.get("LOCUST_ENVIRONMENT", "loadtest")
SLOW_DOWNSTREAM_MS = int(_float("LOCUST_SLOW_DOWNSTREAM_MS", 300, 0, 60_000))
# Requests per second each user aims for (Locust's constant_throughput); 0 keeps a random think
# time of 0.1-0.5 s. A fixed rate makes the offered load independent of latency: a service that
# keeps up serves exactly it, one that falls behind serves less (the chaos runs rely on this).
USER_RATE = _float("LOCUST_USER_RATE", 0.0, 0.0, 100.0)
# Record every started trace in relay-mock (the verifier's ground truth).
RECORD_EXPECTATIONS = os.environ.get("LOCUST_RECORD_EXPECTATIONS", "true").lower() not in ("0", "false", "no")
# How Locust, at the head of each trace, hands the context on: `sentry` (sentry-trace + baggage,
# as a Sentry browser SDK), `w3c` (traceparent + tracestate only, as k6 or an OpenTelemetry client:
# a Sentry-instrumented api cannot continue it) or `both`. Recorded with each expectation.
PROPAGATION = _choice("LOCUST_PROPAGATION", "sentry", ("sentry", "w3c", "both"))
