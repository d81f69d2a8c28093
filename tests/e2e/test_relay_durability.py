"""relay-mock loses nothing it acknowledged, even when its container is killed mid-load
(SIGKILL: no shutdown, no flush) and started again."""

from __future__ import annotations

import secrets
import threading
import time

import httpx
import pytest

from tests.support.polling import poll
from tests.support.projects import API
from tests.support.stack import Stack

pytestmark = [pytest.mark.stack, pytest.mark.slow]

API_KEY = API.key


def _envelope(event_id: str) -> bytes:
    payload = b'{"message":"durability probe","level":"info"}'
    return b"".join(
        [
            b'{"event_id":"%s"}\n' % event_id.encode(),
            b'{"type":"event","length":%d}\n' % len(payload),
            payload,
            b"\n",
        ]
    )


def test_every_acknowledged_envelope_survives_docker_kill(stack: Stack) -> None:
    since = time.time()
    acknowledged: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def send() -> None:
        with httpx.Client(timeout=5) as client:
            while not stop.is_set():
                event_id = secrets.token_hex(16)
                try:
                    response = client.post(
                        f"{stack.relay_url}/api/1/envelope/",
                        content=_envelope(event_id),
                        headers={"x-sentry-auth": f"Sentry sentry_key={API_KEY}, sentry_version=7"},
                    )
                except httpx.HTTPError:
                    continue  # killed mid-request: not acknowledged, so not owed
                if response.status_code == 200:
                    with lock:
                        acknowledged.add(event_id)

    senders = [threading.Thread(target=send, daemon=True) for _ in range(4)]
    for sender in senders:
        sender.start()
    poll(lambda: True if len(acknowledged) >= 300 else None, deadline_s=60, what="300 acknowledged envelopes")
    stack.compose("kill", "relay-mock")
    stop.set()
    for sender in senders:
        sender.join(timeout=10)
    stack.compose("start", "relay-mock")
    stack.wait_healthy(f"{stack.relay_url}/api/relay/healthcheck/ready/")

    stored: set[str] = set()
    with httpx.stream(
        "GET", f"{stack.relay_url}/inspect/envelopes.jsonl", params={"since": since, "project": "api"}, timeout=60
    ) as response:
        for line in response.iter_lines():
            if line:
                stored.add(httpx.Response(200, content=line).json()["event_id"])
    missing = acknowledged - stored
    assert not missing, f"{len(missing)} of {len(acknowledged)} acknowledged envelopes were lost"
