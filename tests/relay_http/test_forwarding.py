"""Forwarding to a real Sentry (issue 19): every acknowledged envelope of a forwarded project
arrives upstream under the upstream's project and key, with the header's `dsn` rewritten, through
an upstream that stops, a relay-mock that is SIGKILLed with a backlog, rate limits, 5xx answers
and rejections. The upstream is a second relay-mock process over HTTP, with projects of its own."""

from __future__ import annotations

import gzip
import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from relay_mock.client import RelayClient
from relay_mock.models import Envelope, ForwardingProject
from tests.relay_http.wire import API, DOWNSTREAM, Project, envelope, event, item, new_id, post_envelope, transaction
from tests.support.polling import poll
from tests.support.relay_server import REPO, RelayMock

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


def send(http: httpx.Client, url: str, *, project: Project = API, gzipped: bool = False, **fields: Any) -> str:
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


def upstream_client(p: Pair) -> RelayClient:
    return RelayClient(p.upstream.url)


def instant(iso_time: str) -> float:
    return datetime.fromisoformat(iso_time).timestamp()


def test_envelopes_acknowledged_while_the_upstream_is_down_arrive_when_it_is_back(
    pair: Callable[..., Pair], http: httpx.Client
) -> None:
    p = pair()
    p.upstream.stop()
    sent = {send(http, p.local.url) for _ in range(5)}
    down = p.forwarding_when(lambda f: f.last_error is not None and f.pending == 5, "a failed attempt")
    assert "cannot reach" in (down.last_error or "")
    assert down.oldest_pending_age_s is not None and down.sent == 0

    p.upstream.start()

    for found in p.wait_upstream(sent).values():
        assert_forwarded(found, p)
    done = p.forwarding_when(lambda f: f.sent == 5, "5 sent")
    assert (done.pending, done.rejected, done.expired) == (0, 0, 0)


def test_a_backlog_survives_a_sigkill_of_relay_mock(pair: Callable[..., Pair], http: httpx.Client) -> None:
    p = pair()
    p.upstream.stop()
    sent = {send(http, p.local.url, gzipped=True) for _ in range(20)}
    p.local.crash()  # kill -9, with every one of them acknowledged and none forwarded
    p.upstream.start()

    p.local.start()

    for found in p.wait_upstream(sent).values():
        assert_forwarded(found, p)
    done = p.forwarding_when(lambda f: f.sent + f.duplicates >= 20, "20 sent")
    assert (done.acknowledged, done.pending, done.rejected, done.expired) == (20, 0, 0, 0)


def test_a_429_is_honoured_no_request_before_retry_after(pair: Callable[..., Pair], http: httpx.Client) -> None:
    p = pair()
    with upstream_client(p) as upstream:
        upstream.add_fault(action="rate_limit", retry_after=2, duration_s=2)
    event_id = send(http, p.local.url)

    found = p.wait_upstream({event_id})[event_id]

    with upstream_client(p) as upstream:
        refusals = upstream.refusals()
    # One 429, then nothing until Retry-After passed: an early retry would have met the rule again.
    assert [r.status for r in refusals] == [429]
    assert found.received_ts >= instant(refusals[0].received_at) + 2 - 0.05
    done = p.forwarding_when(lambda f: f.sent == 1, "sent")
    assert done.statuses == {"200": 1, "429": 1}


def test_a_rate_limit_for_one_category_holds_only_that_category(pair: Callable[..., Pair], http: httpx.Client) -> None:
    p = pair()
    with upstream_client(p) as upstream:
        upstream.add_fault(action="rate_limit", categories=["error"], retry_after=3, duration_s=3)
    error_id = send(http, p.local.url)
    trace_id = new_id()
    txn = transaction(trace_id)
    body = envelope(item("transaction", txn), event_id=txn["event_id"], trace={"trace_id": trace_id})
    assert post_envelope(http, p.local.url, body).status_code == 200

    arrived_txn = p.wait_upstream({txn["event_id"]})[txn["event_id"]]
    arrived_error = p.wait_upstream({error_id})[error_id]

    with upstream_client(p) as upstream:
        [limited] = upstream.refusals()
    limit_ends = instant(limited.received_at) + 3
    assert arrived_txn.received_ts < limit_ends  # transactions were not limited
    assert arrived_error.received_ts >= limit_ends - 0.05


def test_5xx_answers_are_retried_with_backoff(pair: Callable[..., Pair], http: httpx.Client) -> None:
    p = pair()
    with upstream_client(p) as upstream:
        upstream.add_fault(action="status", status=503, count=3)
    event_id = send(http, p.local.url)

    assert_forwarded(p.wait_upstream({event_id})[event_id], p)

    with upstream_client(p) as upstream:
        times = sorted(instant(r.received_at) for r in upstream.refusals() if r.status == 503)
    assert len(times) == 3
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert all(gap >= 0.2 for gap in gaps), gaps  # backing off, not hammering
    done = p.forwarding_when(lambda f: f.sent == 1, "sent")
    assert done.statuses == {"200": 1, "503": 3}
    assert done.backing_off_until is None


def test_a_4xx_is_rejected_and_kept_with_the_answer(pair: Callable[..., Pair], http: httpx.Client) -> None:
    p = pair()
    with upstream_client(p) as upstream:
        upstream.add_fault(action="status", status=413, count=1)
    event_id = send(http, p.local.url)

    done = p.forwarding_when(lambda f: f.rejected == 1, "a rejection")

    assert (done.sent, done.pending, done.statuses) == (0, 0, {"413": 1})
    with RelayClient(p.local.url) as local:
        [rejected] = local.envelopes(forward="rejected").envelopes
        assert rejected.event_id == event_id
        detail = local.envelope(rejected.id).forward
    assert detail is not None
    assert (detail.state, detail.status, detail.attempts) == ("rejected", 413, 1)
    assert "injected fault" in (detail.detail or "")  # the upstream's own body
    assert p.upstream_envelopes() == []


def test_the_last_error_survives_a_restart(pair: Callable[..., Pair], http: httpx.Client) -> None:
    """The last error is what someone opening /inspect/forwarding after a restart needs most:
    why the backlog grew, or why an envelope was rejected. It is kept in the store."""
    p = pair()
    with upstream_client(p) as upstream:
        upstream.add_fault(action="status", status=413, count=1)
    send(http, p.local.url)
    before = p.forwarding_when(lambda f: f.rejected == 1 and f.last_error is not None, "a rejection")
    assert (before.last_error or "").startswith("413 rejected")

    p.local.crash()  # kill -9: nothing is written at shutdown
    p.local.start()

    after = p.forwarding()
    assert (after.last_error, after.last_error_at) == (before.last_error, before.last_error_at)
    assert (after.acknowledged, after.rejected, after.pending) == (1, 1, 0)
    with RelayClient(p.local.url) as local:
        local.clear()  # DELETE /inspect/envelopes: the counters and the last error go together
    cleared = p.forwarding()
    assert (cleared.last_error, cleared.acknowledged, cleared.rejected) == (None, 0, 0)


def test_an_envelope_the_upstream_never_takes_expires_after_max_age(
    pair: Callable[..., Pair], http: httpx.Client
) -> None:
    p = pair(RELAY_FORWARD_MAX_AGE="1.5")
    p.upstream.stop()
    event_id = send(http, p.local.url)

    done = p.forwarding_when(lambda f: f.expired == 1, "an expiry")

    assert (done.sent, done.pending, done.rejected, done.acknowledged) == (0, 0, 0, 1)
    with RelayClient(p.local.url) as local:
        [expired] = local.envelopes(forward="expired").envelopes
        assert expired.event_id == event_id
        state = local.envelope(expired.id).forward
    assert state is not None and state.state == "expired"
    assert "RELAY_FORWARD_MAX_AGE" in (state.detail or "") and "cannot reach" in (state.detail or "")
    p.upstream.start()
    assert p.upstream_envelopes() == []  # expired means never sent


def test_an_otlp_request_is_forwarded_as_it_came_to_the_upstream_s_otlp_endpoint(
    pair: Callable[..., Pair], http: httpx.Client
) -> None:
    p = pair()
    trace_id, now = new_id(), time.time_ns()
    span = {
        "traceId": trace_id,
        "spanId": "a1a2a3a4a5a6a7a8",
        "name": "GET /stock",
        "kind": 2,
        "startTimeUnixNano": str(now - 5_000_000),
        "endTimeUnixNano": str(now),
    }
    document = orjson.dumps(
        {"resourceSpans": [{"resource": {}, "scopeSpans": [{"scope": {"name": "t"}, "spans": [span]}]}]}
    )
    response = http.post(
        f"{p.local.url}/api/{API.id}/integration/otlp/v1/traces/",
        content=gzip.compress(document),
        headers={"content-type": "application/json", "content-encoding": "gzip", **API.auth},
    )
    assert response.status_code == 200, response.text

    def arrived() -> Envelope | None:
        found = [e for e in p.upstream_envelopes() if e.trace_id == trace_id]
        return found[0] if found else None

    found = poll(arrived, deadline_s=DEADLINE_S, what="the OTLP request upstream")
    assert (found.project.id, found.request.public_key) == (UPSTREAM_PROJECT, UPSTREAM_KEY)
    assert found.request.endpoint == "otlp_traces" and found.request.content_encoding == "gzip"
    with RelayClient(p.upstream.url) as upstream:
        raw = upstream.raw(found.id)
    assert raw.endswith(document)  # the otlp_request item: the body byte for byte
    assert p.forwarding_when(lambda f: f.sent == 1, "sent").statuses == {"200": 1}


def test_unconfigured_projects_are_never_forwarded(pair: Callable[..., Pair], http: httpx.Client) -> None:
    p = pair()
    other = send(http, p.local.url, project=DOWNSTREAM)
    forwarded = send(http, p.local.url)

    # What an SDK's `spotlight` option posts to Spotlight's /stream: it sends to its DSN as well.
    payload = event()
    spotlight = envelope(item("event", payload), event_id=payload["event_id"], dsn=API.dsn(p.local.url))
    assert http.post(f"{p.local.url}/stream", content=spotlight).status_code == 200

    p.wait_upstream({forwarded})
    p.forwarding_when(lambda f: f.sent == 1, "sent")

    assert [e.event_id for e in p.upstream_envelopes()] == [forwarded]
    with RelayClient(p.local.url) as local:
        assert {e.event_id for e in local.envelopes(forward="none").envelopes} == {other, payload["event_id"]}
        assert [e.event_id for e in local.envelopes(forward="sent").envelopes] == [forwarded]
        assert [f.project.id for f in local.forwarding().projects] == [API.id]
        not_forwarded = local.envelopes(forward="none").envelopes[-1]
        assert local.envelope(not_forwarded.id).forward is None


def test_the_upstream_key_is_never_shown(pair: Callable[..., Pair], http: httpx.Client) -> None:
    p = pair()
    p.upstream.stop()  # failures: errors in the log and in the inspection answers
    event_id = send(http, p.local.url)
    p.forwarding_when(lambda f: f.last_error is not None, "a failed attempt")
    p.upstream.start()
    p.wait_upstream({event_id})
    p.forwarding_when(lambda f: f.sent == 1, "sent")

    with httpx.Client(base_url=p.local.url, timeout=10) as local:
        [listed] = local.get("/inspect/envelopes", params={"forward": "sent"}).json()["envelopes"]
        pages = {
            path: local.get(path).text
            for path in (
                "/inspect/forwarding",
                "/inspect/envelopes",
                f"/inspect/envelopes/{listed['id']}",
                "/inspect/stats",
                "/inspect/projects",
                "/inspect/openapi.json",
                "/",
                "/ui/app.js",
                "/ui/forwarding.js",
            )
        }
        mcp = local.post(
            "/mcp",
            json={"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": "forwarding", "arguments": {}}},
        )
        pages["mcp"] = mcp.text
    assert mcp.status_code == 200 and "pending" in mcp.text
    assert "0123…" in pages["/inspect/forwarding"]  # shown, masked
    for command in (["forwarding"], ["forwarding", "--json"]):
        shown = subprocess.run(
            [sys.executable, "-m", "relay_mock", "--url", p.local.url, *command],
            cwd=REPO / "relay-mock",
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        assert "0123…" in shown.stdout, shown.stdout  # the CLI shows the upstream, masked
        pages[" ".join(command)] = shown.stdout + shown.stderr
    pages["log"] = p.local.log_tail(10**7)
    assert "forwarding project 1 to" in pages["log"]
    assert [where for where, text in pages.items() if UPSTREAM_KEY in text] == []


def test_soak_every_acknowledged_envelope_is_accounted_for(pair: Callable[..., Pair]) -> None:
    """A bounded soak: a few thousand envelopes at a steady rate while the upstream answers some
    with 503, 429 and 400, short expiry, and a retention cap that evicts while envelopes are
    pending: at the end sent + rejected + expired + pending = acknowledged, and nothing is pending."""
    p = pair(RELAY_FORWARD_MAX_AGE="4", RELAY_RETENTION_MAX_ENVELOPES="1500")
    with upstream_client(p) as upstream:
        upstream.add_fault(action="status", status=503, fraction=0.05)
        upstream.add_fault(action="status", status=400, fraction=0.02)
        upstream.add_fault(action="rate_limit", categories=["transaction"], retry_after=1, fraction=0.05)
    total, senders = 2000, 8
    acknowledged = 0
    lock = threading.Lock()

    def sender(n: int) -> None:
        nonlocal acknowledged
        with httpx.Client(timeout=30) as http:
            for i in range(n, total, senders):
                trace_id = new_id()
                payload = transaction(trace_id) if i % 3 == 0 else event()
                body = envelope(
                    item(payload.get("type", "event"), payload),
                    event_id=payload["event_id"],
                    trace={"trace_id": trace_id, "public_key": API.key},
                )
                if post_envelope(http, p.local.url, body).status_code == 200:
                    with lock:
                        acknowledged += 1
                time.sleep(0.01)  # a steady rate (~600/s over 8 senders), not a burst

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(senders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    done = p.forwarding_when(lambda f: f.pending == 0 and f.acknowledged == acknowledged, "an empty backlog")

    assert acknowledged == total
    assert done.sent + done.rejected + done.expired + done.pending == acknowledged, done
    assert done.sent > total // 2 and done.rejected > 0, done
    statuses = done.statuses
    assert statuses.get("200", 0) == done.sent and statuses.get("400", 0) == done.rejected, done
    with upstream_client(p) as upstream:
        received = upstream.stats().envelopes.received
    assert received >= done.sent  # a send whose answer was lost may have arrived twice, never less
