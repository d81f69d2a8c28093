"""downstream's optional next hop (NEXT_HOP_URL): each reservation asks the next service for the
SKU's stock, and what that service witnessed joins downstream's own witness; a next hop that
fails or cannot be reached is logged and never fails the reservation. A bad URL stops the start."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from downstream.next_hop import NextHop
from servicekit.witness import WITNESS_HEADER, WitnessMiddleware
from tests.support.services import run_to_exit

pytestmark = pytest.mark.anyio

NEXT_WITNESS = [{"service": "playground", "received": "0123456789abcdef0123456789abcdef-89abcdef01234567-1"}]


def _next_hop(handler: httpx.MockTransport) -> NextHop:
    return NextHop(httpx.AsyncClient(transport=handler, base_url="http://playground:8001"))


def _downstream(next_hop: NextHop) -> WitnessMiddleware:
    async def reserve(request: Request) -> JSONResponse:
        return JSONResponse({"next_hop": await next_hop.look_up_stock("SKU 1")})

    return WitnessMiddleware(Starlette(routes=[Route("/reservations", reserve, methods=["POST"])]), "downstream")


async def test_a_reservation_asks_the_next_hop_and_passes_its_witness_on() -> None:
    asked: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        return httpx.Response(
            200, json={"sku": "SKU 1", "available": 3}, headers={WITNESS_HEADER: json.dumps(NEXT_WITNESS)}
        )

    app = _downstream(_next_hop(httpx.MockTransport(handler)))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://downstream:8001") as client:
        response = await client.post("/reservations")

    assert response.json() == {"next_hop": 200}
    assert asked == ["http://playground:8001/stock/SKU%201"]
    witnessed = json.loads(response.headers[WITNESS_HEADER])
    assert [entry["service"] for entry in witnessed] == ["downstream", "playground"]
    assert witnessed[1]["received"] == NEXT_WITNESS[0]["received"]


@pytest.mark.parametrize(
    ("answer", "logged"),
    [
        (httpx.ConnectError("refused"), "unreachable"),
        (httpx.Response(503, json={"detail": "down"}), "answered 503"),
    ],
)
async def test_a_failing_next_hop_is_logged_and_the_reservation_goes_on(
    answer: httpx.Response | httpx.HTTPError, logged: str, caplog: pytest.LogCaptureFixture
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, httpx.HTTPError):
            raise answer
        return answer

    with caplog.at_level(logging.WARNING, logger="downstream.next_hop"):
        status = await _next_hop(httpx.MockTransport(handler)).look_up_stock("SKU-1")

    assert status == (None if isinstance(answer, httpx.HTTPError) else 503)
    assert logged in caplog.text


@pytest.mark.parametrize("url", ["playground:8001", "ftp://playground", "http://playground:8001/stock"])
def test_a_bad_next_hop_url_stops_downstream_naming_the_variable(url: str) -> None:
    result = run_to_exit("downstream", {"NEXT_HOP_URL": url})

    assert result.returncode != 0
    assert "  NEXT_HOP_URL: " in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
