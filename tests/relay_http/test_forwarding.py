"""Forwarding to a real Sentry (issue 19): every acknowledged envelope of a forwarded project
arrives upstream under the upstream's project and key, with the header's `dsn` rewritten, through
an upstream that stops, a relay-mock that is SIGKILLed with a backlog, rate limits, 5xx answers
and rejections. The upstream is a second relay-mock process over HTTP, with projects of its own."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from relay_mock.client import RelayClient
from relay_mock.models import Envelope, Forwarding, ForwardingProject
from tests.relay_http.wire import API, DOWNSTREAM, envelope, event, item, new_id, post_envelope, transaction
from tests.support.polling import poll
from tests.support.relay_server import RelayMock

# The upstream's own projects: other ids and keys than the sandbox's, so a rewrite shows.
UPSTREAM_KEY = "0123456789abcdef0123456789abcdef"
UPSTREAM_PROJECT = 42
UPSTREAM_ENV = {"RELAY_PROJECT_REALAPI": f"http://{UPSTREAM_KEY}@127.0.0.1/{UPSTREAM_PROJECT}"}
DEADLINE_S = 30


class Pair:
    """A forwarding relay-mock and its upstream, each a process of its own on its own store."""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        (tmp_path / "upstream").mkdir()
        (tmp_path / "local").mkdir()
        self.upstream = RelayMock(tmp_path / "upstream", env=UPSTREAM_ENV)
        self.upstream.start()
        self.dsn = f"http://{UPSTREAM_KEY}@127.0.0.1:{self.upstream.port}/{UPSTREAM_PROJECT}"
        forward = orjson.dumps({"api": self.dsn}).decode()
        self.local = RelayMock(tmp_path / "local", env={"RELAY_FORWARD": forward, **env})
        self.local.start()

    def stop(self) -> None:
        for server in (self.local, self.upstream):
            if server.process is not None:
                server.stop()

    def forwarding(self) -> ForwardingProject:
        with RelayClient(self.local.url) as client:
            answer = client.forwarding()
        [project] = [p for p in answer.projects if p.project.id == API.id]
        return project

    def forwarding_when(self, holds: Callable[[ForwardingProject], bool], what: str) -> ForwardingProject:
        def check() -> ForwardingProject | None:
            project = self.forwarding()
            return project if holds(project) else None

        return poll(check, deadline_s=DEADLINE_S, what=what)

    def upstream_envelopes(self) -> list[Envelope]:
        with RelayClient(self.upstream.url) as client:
            return list(client.iter_envelopes())

    def wait_upstream(self, event_ids: set[str], deadline_s: float = DEADLINE_S) -> dict[str, Envelope]:
        def arrived() -> dict[str, Envelope] | None:
            found = {e.event_id: e for e in self.upstream_envelopes() if e.event_id in event_ids}
            return found if len(found) == len(event_ids) else None

        return poll(arrived, deadline_s=deadline_s, what=f"{len(event_ids)} envelopes upstream")


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Callable[..., Pair]]:
    made: list[Pair] = []

    def make(**env: str) -> Pair:
        made.append(Pair(tmp_path, **env))
        return made[-1]

    yield make
    for p in made:
        p.stop()


def send(http: httpx.Client, url: str, *, project=API, gzipped: bool = False, **fields: object) -> str:  # type: ignore[no-untyped-def]
    payload = event(**fields)
    body = envelope(
        item("event", payload),
        event_id=payload["event_id"],
        dsn=project.dsn(url),
        trace={"trace_id": new_id(), "public_key": project.key},
    )
    headers = {"Content-Encoding": "gzip"} if gzipped else {}
    response = post_envelope(http, url, gzip.compress(body) if gzipped else body, project=project, headers=headers)
    assert response.status_code == 200, response.text
    return str(payload["event_id"])


def assert_forwarded(found: Envelope, pair: Pair) -> None:
    assert found.project.id == UPSTREAM_PROJECT
    assert found.request.public_key == UPSTREAM_KEY
    assert found.header["dsn"] == pair.dsn
    assert found.header["trace"]["public_key"] == UPSTREAM_KEY


def test_acknowledged_envelopes_arrive_upstream_rewritten(pair: Callable[..., Pair], http: httpx.Client) -> None:
    p = pair()
    sent = {send(http, p.local.url, gzipped=n % 2 == 0) for n in range(10)}
    found = p.wait_upstream(sent)
    for envelope_ in found.values():
        assert_forwarded(envelope_, p)
        assert envelope_.request.sdk_client == "tests/1.0"
    forwarding = p.forwarding_when(lambda f: f.sent == 10, "10 sent")
    assert (forwarding.acknowledged, forwarding.pending, forwarding.rejected, forwarding.expired) == (10, 0, 0, 0)
    assert forwarding.statuses == {"200": 10}
