"""The services' domain events as Sentry logs, and their business metrics.

A log goes out as a template with its parameters (`sentry.message.template`,
`sentry.message.parameter.<name>`), so relay-mock and Sentry can group by the template. Both
carry the trace id and span id of the span current when they are emitted; that is what the
verifier's correlation check holds them to. Nothing here raises: instrumentation must not
break the request it observes (the SDK's own calls already swallow their errors).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import sentry_sdk.logger
from sentry_sdk import metrics

# Metric names, shared with the tests and the docs.
ORDERS = "orders"  # counter, attribute `outcome`
RESERVATION_LATENCY = "reservation.latency"  # distribution, milliseconds, attribute `outcome`
STOCK_LEVEL = "stock.level"  # gauge, attribute `sku`

# A reservation slower than this is logged as a slow downstream.
SLOW_DOWNSTREAM_MS = 500.0


class OrderOutcome(StrEnum):
    CONFIRMED = "confirmed"
    REJECTED = "rejected"  # out of stock or unknown SKU: an expected answer
    FAILED = "failed"  # downstream failed, timed out or was unreachable


def log(level: str, template: str, **params: Any) -> None:
    """Send a Sentry log at `level` ("trace" ... "fatal") from a `{name}` template."""
    emit = getattr(sentry_sdk.logger, level)
    emit(template, **params)


def order_placed(order_id: str, sku: str, quantity: int) -> None:
    log("info", "order {order_id} placed: {quantity} x {sku}", order_id=order_id, sku=sku, quantity=quantity)


def order_finished(order_id: str, outcome: OrderOutcome, latency_ms: float) -> None:
    """An order's outcome: its count by outcome, the reservation's latency, and a log when it
    went wrong or slowly."""
    metrics.count(ORDERS, 1, attributes={"outcome": outcome.value})
    metrics.distribution(
        RESERVATION_LATENCY, round(latency_ms, 3), unit="millisecond", attributes={"outcome": outcome.value}
    )
    if outcome is OrderOutcome.FAILED:
        log("error", "downstream failed for order {order_id}", order_id=order_id)
    elif latency_ms >= SLOW_DOWNSTREAM_MS:
        log(
            "warning",
            "downstream slow: reservation for order {order_id} took {latency_ms} ms",
            order_id=order_id,
            latency_ms=round(latency_ms, 1),
        )


def stock_reserved(sku: str, quantity: int, available: int) -> None:
    log("info", "stock reserved: {quantity} x {sku}, {available} left", sku=sku, quantity=quantity, available=available)
    metrics.gauge(STOCK_LEVEL, available, attributes={"sku": sku})


def stock_short(sku: str, quantity: int, available: int) -> None:
    log(
        "warning",
        "stock short: {quantity} x {sku} asked, {available} available",
        sku=sku,
        quantity=quantity,
        available=available,
    )
    metrics.gauge(STOCK_LEVEL, available, attributes={"sku": sku})
