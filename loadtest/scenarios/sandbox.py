"""The sandbox's traffic: one Locust user class whose weighted tasks are the scenarios.

Every request starts its own trace (scenarios.tracing) and is recorded as ground truth
(scenarios.ground_truth). Requests are named by route; failures are marked with
`catch_response` so Locust's statistics match what a user would call a failure.
"""

from __future__ import annotations

import random
from typing import Any

from locust import FastHttpUser, between, constant_throughput, events, task

from scenarios import config
from scenarios.ground_truth import ground_truth
from scenarios.tracing import start_trace

SKUS = ("SKU-1", "SKU-2", "SKU-3", "SKU-4", "SKU-5")
FAULT_HEADER = "X-Sandbox-Fault"


class SandboxUser(FastHttpUser):
    wait_time = constant_throughput(config.USER_RATE) if config.USER_RATE > 0 else between(0.1, 0.5)

    def _order_body(self, sku: str | None = None) -> dict[str, Any]:
        return {"sku": sku or random.choice(SKUS), "quantity": random.randint(1, 3), "customer": "locust"}  # noqa: S311

    @task(6)
    def order_across_the_hop(self) -> None:
        """Create an order (api and downstream both write to Postgres), then read it back."""
        trace = start_trace()
        with self.client.post(
            "/orders", json=self._order_body(), headers=trace.headers(), name="POST /orders", catch_response=True
        ) as response:
            ok = response.status_code == 201
            ground_truth.record(
                trace,
                "orders",
                status_code=response.status_code,
                headers=response.headers,
                outcome="ok" if ok else "failed",
            )
            if not ok:
                response.failure(f"expected 201, got {response.status_code}")
                return
            order_id = response.json()["id"]
        read = start_trace()
        with self.client.get(
            f"/orders/{order_id}", headers=read.headers(), name="GET /orders/{id}", catch_response=True
        ) as response:
            ground_truth.record(
                read,
                "orders.read",
                status_code=response.status_code,
                headers=response.headers,
                outcome="ok",
                expect_services=("api",),
            )
            if response.status_code != 200:
                response.failure(f"expected 200, got {response.status_code}")

    @task(1)
    def out_of_stock(self) -> None:
        """An expected business error: 409 from downstream, 409 from api, no Sentry error."""
        trace = start_trace()
        with self.client.post(
            "/orders",
            json=self._order_body("SOLD-OUT"),
            headers=trace.headers(),
            name="POST /orders (out of stock)",
            catch_response=True,
        ) as response:
            ground_truth.record(
                trace,
                "business_error",
                status_code=response.status_code,
                headers=response.headers,
                outcome="409 expected",
            )
            if response.status_code == 409:
                response.success()
            else:
                response.failure(f"expected 409, got {response.status_code}")

    @task(1)
    def downstream_fails(self) -> None:
        """downstream raises (fault switch): api answers 502 and both report an error event."""
        trace = start_trace()
        headers = {**trace.headers(), FAULT_HEADER: "downstream:error"}
        with self.client.post(
            "/orders",
            json=self._order_body(),
            headers=headers,
            name="POST /orders (downstream fails)",
            catch_response=True,
        ) as response:
            ground_truth.record(
                trace,
                "downstream_error",
                status_code=response.status_code,
                headers=response.headers,
                outcome="502 expected",
                expect_errors_from=("api", "downstream"),
            )
            if response.status_code == 502:
                response.success()
            else:
                response.failure(f"expected 502, got {response.status_code}")

    @task(1)
    def slow_downstream(self) -> None:
        """downstream adds latency (fault switch): visible in both transactions."""
        trace = start_trace()
        headers = {**trace.headers(), FAULT_HEADER: f"downstream:latency={config.SLOW_DOWNSTREAM_MS}"}
        with self.client.post(
            "/orders",
            json=self._order_body(),
            headers=headers,
            name="POST /orders (slow downstream)",
            catch_response=True,
        ) as response:
            ground_truth.record(
                trace, "slow_downstream", status_code=response.status_code, headers=response.headers, outcome="slow"
            )
            if response.status_code != 201:
                response.failure(f"expected 201, got {response.status_code}")

    @task(1)
    def test_endpoints(self) -> None:
        """The integration's test endpoints: nested spans across the hop, a message, an error."""
        trace = start_trace()
        with self.client.get(
            "/test-performance", headers=trace.headers(), name="GET /test-performance", catch_response=True
        ) as response:
            ground_truth.record(
                trace, "test_performance", status_code=response.status_code, headers=response.headers, outcome="ok"
            )
            if response.status_code != 200:
                response.failure(f"expected 200, got {response.status_code}")
        trace = start_trace()
        with self.client.get(
            "/test-message?level=info", headers=trace.headers(), name="GET /test-message", catch_response=True
        ) as response:
            ground_truth.record(
                trace,
                "test_message",
                status_code=response.status_code,
                headers=response.headers,
                outcome="ok",
                expect_services=("api",),
            )
            if response.status_code != 200:
                response.failure(f"expected 200, got {response.status_code}")
        trace = start_trace()
        with self.client.get(
            "/test-error", headers=trace.headers(), name="GET /test-error", catch_response=True
        ) as response:
            ground_truth.record(
                trace,
                "test_error",
                status_code=response.status_code,
                headers=response.headers,
                outcome="500 expected",
                expect_services=("api",),
                expect_errors_from=("api",),
            )
            if response.status_code == 500:
                response.success()
            else:
                response.failure(f"expected 500, got {response.status_code}")


@events.test_stop.add_listener
def _flush_ground_truth(**_: Any) -> None:
    ground_truth.flush_all()


@events.quitting.add_listener
def _flush_on_quit(**_: Any) -> None:
    ground_truth.flush_all()
