"""relay_mock.client against a running relay-mock: typed answers, errors as RelayError with the
API's detail and causes, the inspection token, the async client, and GET /inspect/projects."""

from __future__ import annotations

import asyncio
import inspect
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from starlette.routing import Match, Route

from relay_mock.client import AsyncRelayClient, RelayClient, RelayError
from relay_mock.inspection.operations import OPERATIONS
from relay_mock.inspection.routes import handler_of
from relay_mock.models import Envelope, Project
from tests.relay_http.wire import new_id, send_event
from tests.support.polling import poll
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


# ---------------------------------------------------------------- the client covers the API


def _operation_of(method: str, path: str) -> tuple[str, str] | None:
    """The operations table's (method, path) a request is routed to, or None."""
    for op in OPERATIONS:
        scope = {"type": "http", "method": method, "path": path, "path_params": {}}
        route = Route(op.path, handler_of(op), methods=[op.method])
        if route.matches(scope)[0] == Match.FULL:
            return op.method, op.path
    return None


def test_the_client_reaches_every_operation_of_the_table(relay: RelayMock, http: httpx.Client) -> None:
    """Each operation of inspection/operations.py is reachable through a RelayClient method: every
    public method is called once here (a new one must be added), and the requests they send
    cover the table. No exceptions: an operation without a method fails this test."""
    event_id = send_event(http, relay.url, release=f"cover@{new_id()}")
    sent: list[tuple[str, str]] = []
    client = RelayClient(relay.url)
    client.http.event_hooks["request"].append(lambda request: sent.append((request.method, request.url.path)))
    envelope_id = client.envelopes(event_id=event_id).envelopes[0].id
    trace_id = new_id()

    def stream_one() -> None:
        # The stream answers as envelopes arrive: one more is sent once its request is.
        next(iter(client.stream()))

    calls: dict[str, Callable[[], object]] = {
        "envelopes": lambda: client.envelopes(limit=1),
        "iter_envelopes": lambda: next(iter(client.iter_envelopes())),
        "envelope": lambda: client.envelope(envelope_id),
        "raw": lambda: client.raw(envelope_id),
        "wait": lambda: client.wait("event", timeout=0),
        "stream": stream_one,
        "export": lambda: client.export(io.BytesIO(), event_id=event_id),
        "traces": lambda: client.traces(limit=1),
        "trace": lambda: client.trace(trace_id),
        "errors": lambda: client.errors(limit=1),
        "error": lambda: client.error(event_id),
        "stats": client.stats,
        "logs": lambda: client.logs(limit=1),
        "metrics": lambda: client.metrics(limit=1),
        "item_view": lambda: client.item_view(envelope_id, 0),
        "leaks": lambda: client.leaks(limit=1),
        "refusals": lambda: client.refusals(limit=1),
        "projects": client.projects,
        "forwarding": client.forwarding,
        "faults": client.faults,
        "add_fault": lambda: client.add_fault(action="latency", latency_ms=1, count=1),
        "remove_fault": lambda: client.remove_fault("f-none"),
        "clear_faults": client.clear_faults,
        "record_expectations": lambda: client.record_expectations([{"trace_id": trace_id, "scenario": "cover"}]),
        "expectations": lambda: client.expectations(trace_id=trace_id),
        "verify": lambda: client.verify(trace_id=trace_id),
        "verify_with_topology": lambda: client.verify(trace_id=trace_id, topology={"call_ops": ["http.client"]}),
        "clear": client.clear,
    }
    public = {name for name, _ in inspect.getmembers(RelayClient, inspect.isfunction) if not name.startswith("_")}
    assert public - {"call", "close"} <= set(calls), "a client method this test does not call"

    with ThreadPoolExecutor(1) as pool:
        for name, call in calls.items():
            if name == "stream":
                streaming = pool.submit(call)
                poll(lambda: True if ("GET", "/inspect/stream") in sent else None, deadline_s=10, what="the stream")
                send_event(http, relay.url)
                streaming.result(timeout=10)
                continue
            try:
                call()
            except RelayError as exc:
                assert exc.status == 404, f"{name}: {exc}"  # reached: an id that names nothing
    client.close()

    reached = {_operation_of(method, path) for method, path in sent}
    declared = {(op.method, op.path) for op in OPERATIONS}
    assert declared - reached == set(), "operations no client method reaches"
    assert None not in reached, "a client method calls a path outside the table"
