"""Realistic envelopes for the benchmarks, captured from the real sentry-sdk.

The SDK sends to a throwaway local HTTP server that keeps each request's headers and
body exactly as they went over the wire (brotli-compressed, X-Sentry-Auth and all).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sentry_sdk

from relay_mock.sandbox_projects import API

API_KEY = API.public_key


@dataclass(frozen=True)
class Captured:
    headers: dict[str, str]
    body: bytes


def capture(produce, dsn_project: int = 1) -> list[Captured]:  # type: ignore[no-untyped-def]
    """Run `produce()` with the SDK pointed at a capture server; return what it sent."""
    captured: list[Captured] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["content-length"]))
            captured.append(Captured({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sentry_sdk.init(
            dsn=f"http://{API_KEY}@127.0.0.1:{server.server_port}/{dsn_project}",
            traces_sample_rate=1.0,
            release="api@1.0.0",
            environment="development",
            server_name="api",
            send_client_reports=False,
            auto_enabling_integrations=False,
        )
        produce()
        sentry_sdk.flush(5)
        sentry_sdk.get_client().close()
    finally:
        server.shutdown()
    return captured


def _transaction() -> None:
    with sentry_sdk.start_transaction(op="http.server", name="/orders", source="route") as tx:
        tx.set_tag("http.method", "POST")
        tx.set_tag("http.route", "/orders")
        tx.set_tag("request_id", "5f1e0c2d9a8b47c6b3a2f1e0d9c8b7a6")
        tables = ("orders", "customers", "addresses", "payments", "coupons", "carts", "prices", "stock", "taxes")
        for i, table in enumerate(tables * 2):
            query = (
                f"SELECT {table}.id, {table}.created_at, {table}.status FROM shop.{table} WHERE {table}.id = $1::UUID"
            )
            with sentry_sdk.start_span(op="db", name=query) as span:
                span.set_data("db.system", "postgresql")
                span.set_data("db.rows", i * 7 + 3)
                span.set_data("server.address", "db")
        with sentry_sdk.start_span(op="http.client", name="POST http://downstream:8001/reservations") as span:
            span.set_data("http.response.status_code", 201)
            time.sleep(0.001)
        with sentry_sdk.start_span(
            op="db", name="UPDATE orders.orders SET status=$1::VARCHAR WHERE orders.orders.id = $2::UUID"
        ):
            pass


def _error() -> None:
    sentry_sdk.set_tag("request_id", "5f1e0c2d9a8b47c6b3a2f1e0d9c8b7a6")
    for i in range(60):
        sentry_sdk.add_breadcrumb(
            category="query",
            message=f"SELECT * FROM inventory.stock WHERE sku = 'SKU-{i}' FOR UPDATE",
            level="info",
            data={"duration_ms": i * 1.5, "rows": i},
        )

    def deep(level: int, payload: dict[str, object]) -> None:
        local_context = {"level": level, "payload": payload, "note": "x" * 200}
        if level == 0:
            raise RuntimeError(f"downstream answered 500: reservation failed for {local_context['payload']}")
        deep(level - 1, payload)

    try:
        deep(12, {"sku": "SKU-1", "quantity": 2, "customer": "locust"})
    except RuntimeError as exc:
        sentry_sdk.capture_exception(exc)


def sample_envelopes() -> tuple[Captured, Captured]:
    """(transaction, error) as the SDK sends them."""
    transaction = capture(_transaction)
    error = capture(_error)
    assert len(transaction) == 1 and len(error) == 1, "expected one envelope each"
    return transaction[0], error[0]


if __name__ == "__main__":
    import brotli

    for name, env in zip(("transaction", "error"), sample_envelopes(), strict=True):
        raw = brotli.decompress(env.body) if env.headers.get("content-encoding") == "br" else env.body
        print(name, env.headers.get("content-encoding"), len(env.body), "bytes sent,", len(raw), "raw")
