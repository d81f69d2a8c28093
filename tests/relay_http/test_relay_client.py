"""relay_mock.client against a running relay-mock: typed answers, errors as RelayError with the
API's detail and causes, the inspection token, the async client, and GET /inspect/projects."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest

from relay_mock.client import AsyncRelayClient, RelayClient, RelayError
from relay_mock.models import Envelope, Project
from tests.relay_http.wire import new_id, send_event
from tests.support.relay_server import RelayMock

TOKEN = "client-token-0123456789"
SHOP_KEY = "0123456789abcdef0123456789abcdef"


def test_a_bad_parameter_raises_relay_error_with_the_apis_detail_and_causes(relay: RelayMock) -> None:
    with RelayClient(relay.url) as client, pytest.raises(RelayError) as raised:
        client.envelopes(limit=0)

    assert raised.value.status == 400
    assert raised.value.detail == "invalid query parameter limit"
    assert raised.value.causes == ["must be between 1 and 1000"]


def test_a_trace_nothing_arrived_of_raises_404(relay: RelayMock) -> None:
    with RelayClient(relay.url) as client, pytest.raises(RelayError) as raised:
        client.trace(new_id())

    assert raised.value.status == 404 and raised.value.detail.startswith("no transactions or errors of trace")


def test_an_event_reads_back_typed_through_every_view(relay: RelayMock, http: httpx.Client) -> None:
    release = f"client@{new_id()}"
    event_id = send_event(http, relay.url, release=release)

    with RelayClient(relay.url) as client:
        assert client.wait("event", release=release, timeout=5).satisfied
        [envelope] = client.envelopes(release=release).envelopes
        [item] = envelope.items
        detail = client.error(event_id)
        raw = client.raw(envelope.id)

    assert envelope.project.name == "api" and envelope.event_id == event_id
    assert item.type == "event" and item.payload["release"] == release
    assert detail.event_id == event_id and detail.event["release"] == release
    assert raw.startswith(b"{") and event_id.encode() in raw


def test_the_token_comes_from_the_argument_or_the_environment(
    start_relay: Callable[..., RelayMock], monkeypatch: pytest.MonkeyPatch
) -> None:
    guarded = start_relay(RELAY_INSPECT_TOKEN=TOKEN)
    monkeypatch.delenv("RELAY_INSPECT_TOKEN", raising=False)

    with RelayClient(guarded.url) as anonymous, pytest.raises(RelayError) as raised:
        anonymous.stats()
    assert raised.value.status == 401 and "RELAY_INSPECT_TOKEN" in raised.value.detail

    with RelayClient(guarded.url, token=TOKEN) as client:
        assert client.stats().envelopes.stored == 0
    monkeypatch.setenv("RELAY_INSPECT_TOKEN", TOKEN)
    with RelayClient(guarded.url) as client:
        assert client.stats().envelopes.stored == 0


def test_projects_give_each_projects_dsn_at_the_public_url(start_relay: Callable[..., RelayMock]) -> None:
    server = start_relay(
        RELAY_PUBLIC_URL="https://relay.example:9443/sentry",
        RELAY_PROJECT_SHOP=f"http://{SHOP_KEY}@relay-mock:9000/7",
    )

    with RelayClient(server.url) as client:
        projects = client.projects()

    assert projects == [
        Project(id=7, name="shop", public_key=SHOP_KEY, dsn=f"https://{SHOP_KEY}@relay.example:9443/sentry/7")
    ]


def test_the_async_client_waits_and_reads_what_arrived(relay: RelayMock, http: httpx.Client) -> None:
    release = f"async@{new_id()}"
    sent = [send_event(http, relay.url, release=release) for _ in range(2)]

    async def read() -> list[Envelope]:
        async with AsyncRelayClient(relay.url) as client:
            assert (await client.wait("event", count=2, release=release, timeout=5)).count == 2
            return [envelope async for envelope in client.iter_envelopes(release=release)]

    assert [envelope.event_id for envelope in asyncio.run(read())] == sent


def test_fields_the_models_do_not_name_are_kept() -> None:
    body = {
        "id": "e1",
        "seq": 1,
        "received_at": "2026-01-01T00:00:00.000000Z",
        "received_ts": 1767225600.0,
        "project": {"id": 1, "name": "api"},
        "request": {},
        "added_later": {"by": "someone else"},
    }

    envelope = Envelope.model_validate(body)

    assert envelope.model_dump(exclude_unset=True) == body


def test_a_wait_longer_than_the_clients_timeout_still_gets_its_answer(relay: RelayMock) -> None:
    with RelayClient(relay.url, timeout=0.5) as client:
        result = client.wait("event", release=f"never@{new_id()}", timeout=1.5)

    assert not result.satisfied and result.count == 0
