"""Real sentry-sdk traffic for relay-mock, one scenario per process (the SDK is per process,
as it is in a service). Prints what it sent as one JSON line on stdout.

    python tests/browser/sdk_traffic.py http://127.0.0.1:9200 order [--downstream-error] [--orphan]
    python tests/browser/sdk_traffic.py http://127.0.0.1:9200 error | message | hostile

`order` is the two-service hop: the api process opens an http.client span and, inside it,
runs the downstream process with that span's sentry-trace and baggage, as the HTTP call would.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import subprocess
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import sentry_sdk
from sentry_sdk.integrations.stdlib import StdlibIntegration
from sentry_sdk.types import Event, Hint

# tests/support/projects.py's ids and keys, written out: this script runs as a process of its own,
# without the tests' import path (tests/relay_mock/test_sandbox_projects.py holds the copies equal).
KEYS = {
    "api": (1, "a1f2c3d4e5f60718293a4b5c6d7e8f90"),
    "downstream": (2, "b2e3d4c5f6a70819203b4c5d6e7f8091"),
    "playground": (3, "c3d4e5f6a7b8091a2b3c4d5e6f708192"),
}
HOSTILE_SCRIPT = "<script>alert(1)</script>"
HOSTILE_IMG = "<img src=x onerror=alert(1)>"

logger = logging.getLogger("shop")


def dsn(relay_url: str, project: str) -> str:
    project_id, key = KEYS[project]
    parts = urlsplit(relay_url)
    return f"{parts.scheme}://{key}@{parts.netloc}/{project_id}"


def init(relay_url: str, project: str, *, release: str | None = None, server_name: str | None = None) -> None:
    sentry_sdk.init(
        dsn=dsn(relay_url, project),
        traces_sample_rate=1.0,
        release=release or f"{project}@1.4.2",
        environment="sandbox",
        server_name=server_name or f"{project}-7f9c",
        auto_enabling_integrations=False,
        include_local_variables=True,
        max_breadcrumbs=50,
        # Its subprocess spans would stand in for the HTTP call this script only simulates.
        disabled_integrations=[StdlibIntegration()],
    )


def work(op: str, name: str, seconds: float) -> None:
    with sentry_sdk.start_span(op=op, name=name):
        time.sleep(seconds)  # stands in for the work the span measures


def emit(result: dict[str, Any]) -> None:
    sentry_sdk.flush(timeout=10)
    print(json.dumps(result), flush=True)


# ---------------------------------------------------------------- the two-service hop


def order(relay_url: str, *, downstream_error: bool, orphan: bool, no_baggage: bool) -> None:
    init(relay_url, "api")
    sentry_sdk.add_breadcrumb(category="http", message="POST /orders", data={"customer": "acme"})
    with sentry_sdk.start_transaction(op="http.server", name="POST /orders", source="route") as tx:
        work("db.query", "SELECT id, credit_limit FROM customers WHERE name = %s", 0.006)
        work("function", "validate_order", 0.002)
        with sentry_sdk.start_span(op="http.client", name="POST http://downstream:8001/reservations") as call:
            traceparent = sentry_sdk.get_traceparent() or ""
            if orphan:
                # A proxy that re-rooted the call: the parent span id was never sent by the api.
                traceparent = f"{call.trace_id}-{secrets.token_hex(8)}-1"
            baggage = "" if no_baggage else (sentry_sdk.get_baggage() or "")
            child = subprocess.run(
                [sys.executable, __file__, relay_url, "downstream", "--sentry-trace", traceparent, "--baggage", baggage]
                + (["--downstream-error"] if downstream_error else []),
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            call.set_data("http.response.status_code", 409 if downstream_error else 201)
            call.set_status("already_exists" if downstream_error else "ok")
        work("db.query", "INSERT INTO orders (customer_id, sku, quantity) VALUES (%s, %s, %s)", 0.004)
        work("serialize", "OrderRead", 0.001)
        tx.set_status("ok")
        trace_id = tx.trace_id
    downstream = json.loads(child.stdout.strip().splitlines()[-1])
    emit({"trace_id": trace_id, "downstream": downstream})


def reserve(sku: str, quantity: int, stock: dict[str, int]) -> None:
    available = stock.get(sku, 0)
    if available < quantity:
        raise InsufficientStock(f"{sku}: {quantity} requested, {available} in stock")
    stock[sku] = available - quantity


class InsufficientStock(Exception):
    pass


def downstream(relay_url: str, traceparent: str, baggage: str, *, fail: bool) -> None:
    init(relay_url, "downstream", release="downstream@2.0.1", server_name="downstream-3b21")
    headers = {"sentry-trace": traceparent, "baggage": baggage}
    event_id = None
    tx = sentry_sdk.continue_trace(headers, op="http.server", name="POST /reservations", source="route")
    with sentry_sdk.start_transaction(tx):
        work("db.query", "BEGIN", 0.001)
        with sentry_sdk.start_span(op="db.query", name="SELECT quantity FROM stock WHERE sku = %s FOR UPDATE"):
            time.sleep(0.008)
            stock = {"SKU-1": 3}
            if fail:
                try:
                    reserve("SKU-1", 5, stock)
                except InsufficientStock:
                    logger.warning("reservation refused for SKU-1")
                    event_id = sentry_sdk.capture_exception()
        if not fail:
            work("db.query", "UPDATE stock SET quantity = quantity - %s WHERE sku = %s", 0.005)
            work("db.query", "INSERT INTO reservations (sku, quantity) VALUES (%s, %s) RETURNING id", 0.004)
        work("db.query", "ROLLBACK" if fail else "COMMIT", 0.002)
        tx.set_status("already_exists" if fail else "ok")
    emit({"trace_id": tx.trace_id, "span_id": tx.span_id, "parent_span_id": tx.parent_span_id, "error": event_id})


# ---------------------------------------------------------------- errors and messages


class OrderNotFound(LookupError):
    pass


def load_order(orders: dict[str, dict[str, Any]], order_id: str) -> dict[str, Any]:
    return orders[order_id]


def price_order(order_id: str) -> float:
    orders = {"o-1": {"sku": "SKU-1", "quantity": 2, "unit_price": 9.5}}
    try:
        found = load_order(orders, order_id)
    except KeyError as exc:
        raise OrderNotFound(f"order {order_id} does not exist") from exc
    return float(found["quantity"] * found["unit_price"])


def error(relay_url: str) -> None:
    init(relay_url, "api")

    def add_request(event: Event, hint: Hint) -> Event:
        event["request"] = {
            "method": "GET",
            "url": "http://api:8000/orders/o-404/price",
            "headers": {"accept": "application/json", "user-agent": "httpx/0.28.1"},
        }
        return event

    sentry_sdk.get_isolation_scope().add_event_processor(add_request)
    sentry_sdk.set_tag("customer", "acme")
    sentry_sdk.set_user({"id": "42", "username": "acme-buyer"})
    with sentry_sdk.start_transaction(op="http.server", name="GET /orders/{order_id}/price", source="route") as tx:
        sentry_sdk.add_breadcrumb(category="http", message="GET /orders/o-404/price", level="info")
        sentry_sdk.add_breadcrumb(
            category="query", message="SELECT * FROM orders WHERE id = %s", data={"params": ["o-404"], "rows": 0}
        )
        logger.warning("order o-404 not found, pricing anyway")
        with sentry_sdk.start_span(op="function", name="price_order"):
            try:
                price_order("o-404")
            except OrderNotFound:
                event_id = sentry_sdk.capture_exception()
        tx.set_status("not_found")
    emit({"trace_id": tx.trace_id, "event_id": event_id})


def message(relay_url: str, transaction: str, project: str) -> None:
    init(relay_url, project)
    sentry_sdk.set_transaction_name(transaction)
    sentry_sdk.add_breadcrumb(category="inventory", message="stock check", data={"sku": "SKU-42", "left": 2})
    event_id = sentry_sdk.capture_message("Inventory low for SKU-42: 2 left", level="warning")
    emit({"event_id": event_id, "transaction": transaction})


def hostile(relay_url: str) -> None:
    """Names and messages that are markup: the UI must show them as text."""
    init(relay_url, "playground", release=f"pg@{HOSTILE_IMG}")
    sentry_sdk.set_tag("note", f"<b>bold</b>{HOSTILE_IMG}")
    sentry_sdk.add_breadcrumb(category="ui.click", message=HOSTILE_SCRIPT, data={"html": HOSTILE_IMG})
    with sentry_sdk.start_transaction(op="http.server", name=HOSTILE_SCRIPT, source="custom") as tx:
        work("template.render", HOSTILE_IMG, 0.003)
        with sentry_sdk.start_span(op="function", name="render"):
            try:
                raise ValueError(HOSTILE_IMG)
            except ValueError:
                error_id = sentry_sdk.capture_exception()
        message_id = sentry_sdk.capture_message(HOSTILE_IMG, level="error")
    emit({"trace_id": tx.trace_id, "event_id": error_id, "message_id": message_id})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("relay_url")
    parser.add_argument("scenario", choices=["order", "downstream", "error", "message", "hostile"])
    parser.add_argument("--sentry-trace", default="", help="downstream: the incoming sentry-trace header")
    parser.add_argument("--baggage", default="", help="downstream: the incoming baggage header")
    parser.add_argument("--downstream-error", action="store_true")
    parser.add_argument("--orphan", action="store_true", help="downstream continues from a span the api never sent")
    parser.add_argument("--no-baggage", action="store_true", help="downstream gets no baggage: its own DSC")
    parser.add_argument("--transaction", default="check-inventory")
    parser.add_argument("--project", default="api", choices=sorted(KEYS))
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    os.environ.pop("SENTRY_DSN", None)
    if args.scenario == "order":
        order(args.relay_url, downstream_error=args.downstream_error, orphan=args.orphan, no_baggage=args.no_baggage)
    elif args.scenario == "downstream":
        downstream(args.relay_url, args.sentry_trace, args.baggage, fail=args.downstream_error)
    elif args.scenario == "error":
        error(args.relay_url)
    elif args.scenario == "message":
        message(args.relay_url, args.transaction, args.project)
    else:
        hostile(args.relay_url)


if __name__ == "__main__":
    main()
