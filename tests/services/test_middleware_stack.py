"""The middleware stack of the running services: hosts outside ALLOWED_HOSTS are refused,
and every response names the transaction that served it, errors included."""

from __future__ import annotations

import httpx
import pytest

from tests.support.relay import StackRelay
from tests.support.stack import Stack
from tests.support.traffic import FAULT_HEADER, new_trace

pytestmark = pytest.mark.stack


@pytest.mark.parametrize("service", ["api", "downstream"])
def test_a_host_outside_allowed_hosts_is_refused_with_400(stack: Stack, service: str) -> None:
    url = stack.api_url if service == "api" else stack.downstream_url

    refused = httpx.get(f"{url}/health", headers={"host": "evil.example"}, timeout=10)
    allowed = httpx.get(f"{url}/health", headers={"host": "localhost"}, timeout=10)

    assert (refused.status_code, refused.text) == (400, "Invalid host header")
    assert allowed.status_code == 200


@pytest.mark.parametrize(
    ("service", "path", "fault", "status"),
    [
        pytest.param("api", "/orders/not-a-uuid", None, 422, id="api-422"),
        pytest.param("api", "/test-error", None, 500, id="api-500-reported"),
        pytest.param("downstream", "/stock/SKU-1", "downstream:error", 500, id="downstream-unhandled-500"),
    ],
)
def test_an_error_response_names_the_transaction_that_served_it(
    stack: Stack, relay: StackRelay, service: str, path: str, fault: str | None, status: int
) -> None:
    trace_id, trace = new_trace()
    url = stack.api_url if service == "api" else stack.downstream_url

    response = httpx.get(f"{url}{path}", headers={**trace, **({FAULT_HEADER: fault} if fault else {})}, timeout=10)

    assert response.status_code == status
    assert response.headers["x-request-id"]
    relay.wait("transaction", trace_id=trace_id)
    (transaction,) = relay.payloads("transaction", trace_id=trace_id)
    served_by = transaction["contexts"]["trace"]
    assert response.headers["sentry-trace"] == f"{trace_id}-{served_by['span_id']}-1"
    assert f"sentry-trace_id={trace_id}" in response.headers["baggage"].split(",")
    assert transaction["tags"]["request_id"] == response.headers["x-request-id"]
