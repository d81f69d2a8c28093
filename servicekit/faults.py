"""Fault switches: make a service fail or slow down on demand, to watch what Sentry sees.

Per service, from the environment: `FAULT_ERROR_RATE` (0..1) and `FAULT_LATENCY_MS`.
Per request, the `X-Sandbox-Fault` header holds comma-separated directives
`<service>:<fault>[=<value>]`, for example

    X-Sandbox-Fault: downstream:error, downstream:latency=1500

Faults: `error` (an unhandled exception: 500 and a Sentry error event) and
`latency=<ms>` (a visible `fault.latency` span). `*` addresses every service.
Services forward the header on their outgoing calls, so one request can steer the hop.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from fastapi import Request

from servicekit.settings import ServiceSettings
from servicekit.tracing import sentry_span

FAULT_HEADER = "x-sandbox-fault"
MAX_LATENCY_MS = 120_000


class InjectedFault(RuntimeError):
    """The error a fault switch raises; named so nobody mistakes it for a real bug."""


@dataclass(frozen=True)
class FaultPlan:
    error: bool = False
    latency_ms: int = 0


def parse_fault_header(value: str | None, service: str) -> FaultPlan:
    """Directives addressed to `service` (or `*`); malformed ones are ignored."""
    error = False
    latency_ms = 0
    for directive in (value or "").split(","):
        target, sep, fault = directive.strip().partition(":")
        if not sep or target.strip() not in (service, "*"):
            continue
        name, _, arg = fault.strip().partition("=")
        if name == "error":
            error = True
        elif name == "latency" and arg.strip().isdigit():
            latency_ms = max(latency_ms, min(int(arg), MAX_LATENCY_MS))
    return FaultPlan(error=error, latency_ms=latency_ms)


async def apply_faults(request: Request) -> None:
    """FastAPI dependency for business routes: honour the service's and the request's faults."""
    settings: ServiceSettings = request.app.state.settings
    plan = parse_fault_header(request.headers.get(FAULT_HEADER), settings.service_name)
    latency_ms = max(plan.latency_ms, settings.fault_latency_ms)
    if latency_ms:
        with sentry_span("fault.latency", f"injected latency {latency_ms} ms", latency_ms=latency_ms):
            await asyncio.sleep(latency_ms / 1000)
    if plan.error or (settings.fault_error_rate and random.random() < settings.fault_error_rate):  # noqa: S311
        raise InjectedFault(f"{settings.service_name}: injected fault on {request.method} {request.url.path}")
