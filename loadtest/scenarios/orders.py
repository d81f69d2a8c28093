"""Orders across the hop: create one (api → downstream, database on both sides), read it back."""

from __future__ import annotations

import random

from locust import FastHttpUser, between, task

from scenarios.tracing import start_trace

SKUS = ("SKU-1", "SKU-2", "SKU-3", "SKU-4", "SKU-5")


class OrderShopper(FastHttpUser):
    wait_time = between(0.2, 1.0)

    @task(3)
    def create_and_read_order(self) -> None:
        trace = start_trace()
        body = {"sku": random.choice(SKUS), "quantity": random.randint(1, 3), "customer": "locust"}  # noqa: S311
        with self.client.post(
            "/orders", json=body, headers=trace.headers(), name="POST /orders", catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"expected 201, got {response.status_code}")
                return
            order_id = response.json()["id"]
        with self.client.get(
            f"/orders/{order_id}", headers=start_trace().headers(), name="GET /orders/{id}", catch_response=True
        ) as response:
            if response.status_code != 200:
                response.failure(f"expected 200, got {response.status_code}")
