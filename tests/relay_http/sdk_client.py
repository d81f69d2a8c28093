"""The real sentry-python SDK as a client of relay-mock, one process per run (the SDK is per
process, as in a service). Runs the actions in order, flushes, and prints what it sent as one
JSON line on stdout.

    python tests/relay_http/sdk_client.py DSN [options] ACTION...

ACTION is one of:
  error        an exception raised two calls deep, captured (stack frames); --card names the card
  message      a captured message
  transaction  a transaction with one child span
  head         the upstream side of a two-service trace: a transaction whose http.client span
               runs `hop` in a child process with that span's sentry-trace and baggage, as the
               HTTP call would (--downstream-dsn; --orphan hands the child a made-up parent span)
  hop          the downstream side: continues the trace of --sentry-trace and --baggage
               (head and hop stream their spans with --stream, as trace_lifecycle="stream" does)
  telemetry    a transaction (streamed spans with --stream) holding two Sentry logs and three
               metrics (a counter, a gauge, a distribution), and a log outside any span
"""

from __future__ import annotations

import argparse
import json
import secrets
import subprocess
import sys
from typing import Any

import sentry_sdk
import sentry_sdk.logger
import sentry_sdk.traces
from sentry_sdk.integrations.stdlib import StdlibIntegration


class PaymentDeclined(Exception):
    pass


def charge(amount: int, card: str) -> None:
    raise PaymentDeclined(f"card {card} declined for {amount} EUR")


def checkout(amount: int, card: str) -> None:
    charge(amount, card)


def error(sent: dict[str, Any], card: str) -> None:
    try:
        checkout(42, card)
    except PaymentDeclined:
        sent["errors"].append(sentry_sdk.capture_exception())


def message(sent: dict[str, Any], text: str) -> None:
    sent["messages"].append(sentry_sdk.capture_message(text, level="warning"))


def transaction(sent: dict[str, Any], name: str) -> None:
    with sentry_sdk.start_transaction(op="http.server", name=name, source="route") as tx:
        with sentry_sdk.start_span(op="db.query", name="SELECT 1"):
            pass
    sent["transactions"].append(tx.trace_id)


def head(sent: dict[str, Any], args: argparse.Namespace) -> None:
    if args.stream:
        _head_streamed(sent, args)
        return
    with sentry_sdk.start_transaction(op="http.server", name="POST /orders", source="route") as tx:
        with sentry_sdk.start_span(op="http.client", name="POST http://downstream:8001/reservations") as call:
            sent["hop"] = _call_downstream(args, call.trace_id)
            sent["http_client_span"] = call.span_id
    sent["trace_id"] = tx.trace_id
    sent["head_span"] = tx.span_id


def _head_streamed(sent: dict[str, Any], args: argparse.Namespace) -> None:
    with sentry_sdk.traces.start_span(name="POST /orders", attributes={"sentry.op": "http.server"}) as segment:
        with sentry_sdk.traces.start_span(name="INSERT INTO orders", attributes={"sentry.op": "db"}):
            pass
        with sentry_sdk.traces.start_span(
            name="POST http://downstream:8001/reservations", attributes={"sentry.op": "http.client"}
        ) as call:
            sent["hop"] = _call_downstream(args, call.trace_id)
            sent["http_client_span"] = call.span_id
    sent["trace_id"] = segment.trace_id
    sent["head_span"] = segment.span_id


def _call_downstream(args: argparse.Namespace, trace_id: str) -> Any:
    """Run `hop` in a child process with the current span's sentry-trace and baggage."""
    traceparent = sentry_sdk.get_traceparent() or ""
    if args.orphan:
        # A proxy that re-rooted the call: the child's parent span was never sent.
        traceparent = f"{trace_id}-{secrets.token_hex(8)}-1"
    command = [sys.executable, __file__, args.downstream_dsn, "--release", "downstream@2.0.1"]
    command += ["--sentry-trace", traceparent, "--baggage", sentry_sdk.get_baggage() or "", "hop"]
    command += ["--stream"] if args.stream else []
    child = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return json.loads(child.stdout.strip().splitlines()[-1])


def hop(sent: dict[str, Any], args: argparse.Namespace) -> None:
    headers = {"sentry-trace": args.sentry_trace, "baggage": args.baggage}
    if args.stream:
        sentry_sdk.traces.continue_trace(headers)
        with sentry_sdk.traces.start_span(
            name="POST /reservations", attributes={"sentry.op": "http.server"}, parent_span=None
        ) as seg:
            with sentry_sdk.traces.start_span(
                name="UPDATE stock SET quantity = quantity - 1", attributes={"sentry.op": "db"}
            ):
                pass
        sent.update(trace_id=seg.trace_id, span_id=seg.span_id, parent_span_id=seg._parent_span_id)
        return
    tx = sentry_sdk.continue_trace(headers, op="http.server", name="POST /reservations", source="route")
    with sentry_sdk.start_transaction(tx):
        with sentry_sdk.start_span(op="db.query", name="UPDATE stock SET quantity = quantity - 1"):
            pass
    sent.update(trace_id=tx.trace_id, span_id=tx.span_id, parent_span_id=tx.parent_span_id)


def telemetry(sent: dict[str, Any]) -> None:
    def emit() -> None:
        sentry_sdk.logger.info("order {order_id} placed", order_id=7)
        sentry_sdk.logger.warning("stock short for {sku}", sku="SKU-9")
        sentry_sdk.metrics.count("orders", 1, attributes={"outcome": "confirmed"})
        sentry_sdk.metrics.gauge("stock.level", 41, attributes={"sku": "SKU-9"})
        sentry_sdk.metrics.distribution("reservation.latency", 12.5, unit="millisecond")

    if sentry_sdk.get_client().options.get("trace_lifecycle") == "stream":
        with sentry_sdk.traces.start_span(name="POST /orders", attributes={"sentry.op": "http.server"}) as span:
            emit()
    else:
        with sentry_sdk.start_transaction(op="http.server", name="POST /orders", source="route") as span:  # type: ignore[assignment]
            emit()
    sentry_sdk.logger.error("outside any span")
    sent.update(trace_id=span.trace_id, span_id=span.span_id)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dsn")
    parser.add_argument("actions", nargs="+", choices=["error", "message", "transaction", "head", "hop", "telemetry"])
    parser.add_argument("--release", default="shop@1.0.0")
    parser.add_argument("--environment", default="sandbox")
    parser.add_argument("--server-name", default="shop-1")
    parser.add_argument("--text", default="inventory low", help="the captured message")
    parser.add_argument("--card", default="4242", help="the declined card, in the exception message")
    parser.add_argument("--name", default="GET /orders", help="the transaction name")
    parser.add_argument("--downstream-dsn", default="")
    parser.add_argument("--sentry-trace", default="")
    parser.add_argument("--baggage", default="")
    parser.add_argument("--orphan", action="store_true")
    parser.add_argument("--stream", action="store_true", help="trace_lifecycle=stream")
    parser.add_argument("--spotlight", default=None, help="the SDK's spotlight option: a sidecar's /stream URL")
    args = parser.parse_args()
    sentry_sdk.init(
        dsn=args.dsn or None,
        spotlight=args.spotlight,
        traces_sample_rate=1.0,
        release=args.release,
        environment=args.environment,
        server_name=args.server_name,
        auto_enabling_integrations=False,
        # Its subprocess spans would stand in for the HTTP call `head` only simulates.
        disabled_integrations=[StdlibIntegration()],
        # Rate limits here are the test's own: keep the sample rate where it is.
        enable_backpressure_handling=False,
        enable_logs=True,
        trace_lifecycle="stream" if args.stream else "static",
    )
    sent: dict[str, Any] = {"sdk": sentry_sdk.VERSION, "errors": [], "messages": [], "transactions": []}
    for action in args.actions:
        if action == "error":
            error(sent, args.card)
        elif action == "message":
            message(sent, args.text)
        elif action == "transaction":
            transaction(sent, args.name)
        elif action == "head":
            head(sent, args)
        elif action == "telemetry":
            telemetry(sent)
        else:
            hop(sent, args)
    sentry_sdk.flush(timeout=10)
    print(json.dumps(sent), flush=True)


if __name__ == "__main__":
    main()
