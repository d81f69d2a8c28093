"""`POST /test-flush` on a service: the real SDK, over real HTTP, sends the client reports it
would otherwise hold until a later envelope, so the verifier can count a run's last drops."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import sentry_sdk
from sqlalchemy import MetaData

from servicekit.app import create_service_app
from servicekit.sentry import configure_sentry
from tests.relay_http.inspector import Inspector
from tests.relay_http.wire import API
from tests.servicekit.conftest import TEST_HOST, make_settings
from tests.support.relay_server import RelayMock
from tests.support.sentry_client import shut_down_sentry

pytestmark = pytest.mark.anyio


@pytest.fixture
def sdk_to_relay(relay: RelayMock) -> Iterator[None]:
    assert configure_sentry(make_settings(sentry_dsn=API.dsn(relay.url)))
    try:
        yield
    finally:
        shut_down_sentry()


async def test_a_flush_sends_the_drops_the_sdk_has_not_reported_yet(sdk_to_relay: None, inspector: Inspector) -> None:
    transport = sentry_sdk.get_client().transport
    assert transport is not None
    before = len(inspector.envelopes(type="client_report", project="api"))
    transport.record_lost_event("queue_overflow", data_category="transaction", quantity=7)
    app = create_service_app(make_settings(), title="t", description="t", metadata=MetaData(schema="t"), routers=[])

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=f"http://{TEST_HOST}") as client:
        response = await client.post("/test-flush")

    assert response.status_code == 200 and response.json()["flushed"] is True
    reports = inspector.envelopes(type="client_report", project="api")
    assert len(reports) == before + 1
    [item] = [i for i in reports[0]["items"] if i["type"] == "client_report"]
    assert {"reason": "queue_overflow", "category": "transaction", "quantity": 7} in item["payload"]["discarded_events"]
