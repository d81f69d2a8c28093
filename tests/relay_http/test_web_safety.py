"""No website can read, change or drive relay-mock, while SDKs still ingest from anywhere.

- DNS rebinding: a request whose Host is a foreign domain is refused on every inspect route,
  the UI and MCP (the page would otherwise be same-origin with relay-mock).
- Cross-site writes: a POST a page can send without a preflight (text/plain, foreign Origin)
  is refused, and so is any write naming a foreign Origin; nothing changes.
- RELAY_INSPECT_TOKEN: with it set, the UI, API and MCP ask for it; probes and ingest do not.
The attacks a browser makes itself are in tests/browser/test_web_safety.py.
The requests are raw HTTP on purpose (foreign Host and Origin headers, no token), which
relay_mock.client never sends.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from relay_mock.app import RelayMock as RelayApp
from relay_mock.settings import RelaySettings, load_projects
from tests.relay_http.inspector import Inspector
from tests.relay_http.wire import API, event_envelope, post_envelope
from tests.support.relay_server import RelayMock

REBINDING = "rebind.evil.example"
TOKEN = "s3cret-inspect-token-0123456789"


def inspection_paths(tmp_path: Path) -> list[tuple[str, str]]:
    """Every route the inspection app serves, with placeholders filled, and the UI's files."""
    app = RelayApp(RelaySettings(data_dir=tmp_path), load_projects({})).inspector.app
    paths: list[tuple[str, str]] = []
    for route in app.routes:
        path = getattr(route, "path", "")
        if path.startswith("/api/relay/") or path == "/health":
            continue  # probes say only that relay-mock is up
        filled = path.replace("{envelope_id}", "0" * 32).replace("{event_id}", "0" * 32)
        filled = filled.replace("{trace_id}", "0" * 32).replace("{rule_id}", "1")
        for method in sorted(getattr(route, "methods", None) or {"GET"}):
            if method != "HEAD":
                paths.append((method, filled if path != "/ui" else "/ui/app.js"))
    return paths


@pytest.fixture(scope="module")
def routes(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[str, str]]:
    found = inspection_paths(tmp_path_factory.mktemp("routes"))
    assert len(found) > 20 and ("POST", "/mcp") in found and ("GET", "/") in found
    return found


def test_a_rebinding_host_is_refused_on_every_inspect_route_the_ui_and_mcp(
    relay: RelayMock, routes: list[tuple[str, str]]
) -> None:
    with httpx.Client(base_url=relay.url, timeout=10, headers={"host": REBINDING}) as http:
        for method, path in routes:
            response = http.request(method, path, json={} if method == "POST" else None)
            assert response.status_code == 403, f"{method} {path}: {response.status_code}"
            body = response.json()
            assert REBINDING in body["detail"] and any("RELAY_ALLOWED_HOSTS" in c for c in body["causes"])


def _without_host(relay: RelayMock, method: str, path: str) -> tuple[int, bytes]:
    """An HTTP/1.0 request with no Host header at all (httpx always sends one): status and body."""
    with socket.create_connection(("127.0.0.1", relay.port), timeout=10) as sock:
        sock.sendall(f"{method} {path} HTTP/1.0\r\nContent-Length: 0\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_a_request_naming_no_host_is_refused_on_every_inspect_route_the_ui_and_mcp(
    relay: RelayMock, routes: list[tuple[str, str]]
) -> None:
    for method, path in routes:
        status, body = _without_host(relay, method, path)
        assert status == 400, f"{method} {path}: {status}"
        assert "Host" in orjson.loads(body)["detail"], body
    # Probes only say relay-mock is up: a bare probe still gets its answer.
    assert _without_host(relay, "GET", "/api/relay/healthcheck/ready/")[0] == 200


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "relay-mock", "[::1]", "127.0.0.2"])
def test_relay_mocks_own_names_are_answered(relay: RelayMock, host: str) -> None:
    response = httpx.get(f"{relay.url}/inspect/stats", headers={"host": f"{host}:{relay.port}"}, timeout=10)
    assert response.status_code == 200


def _ingest(relay_url: str, headers: dict[str, str] | None = None) -> str:
    event_id, body = event_envelope()
    with httpx.Client(timeout=10) as http:
        response = post_envelope(http, relay_url, body, headers=headers)
    assert response.status_code == 200, response.text
    return event_id


def test_ingest_answers_any_host_and_origin(relay: RelayMock, inspector: Inspector) -> None:
    # SDKs in other containers and in browsers on any site post here; the DSN key guards it.
    event_id = _ingest(relay.url, {"host": "relay.example.org", "origin": "https://app.example.org"})
    assert inspector.envelope(event_id=event_id)["project"]["id"] == API.id


def test_a_no_preflight_cross_site_post_changes_nothing(relay: RelayMock, inspector: Inspector) -> None:
    rules_before = inspector.get("/inspect/faults")
    expectations_before = inspector.get("/inspect/expectations")
    for path, body in (
        ("/inspect/faults", '{"action": "status", "status": 503}'),
        ("/inspect/expectations", '{"expectations": [{"trace_id": "' + "a" * 32 + '", "scenario": "x"}]}'),
    ):
        response = httpx.post(
            f"{relay.url}{path}",
            content=body,
            headers={"origin": "https://evil.example", "content-type": "text/plain"},
            timeout=10,
        )
        assert response.status_code == 403, response.text
        assert "evil.example" in response.json()["detail"]
    assert inspector.get("/inspect/faults") == rules_before
    assert inspector.get("/inspect/expectations") == expectations_before


def test_a_post_that_is_not_json_is_refused_even_without_an_origin(relay: RelayMock, inspector: Inspector) -> None:
    response = httpx.post(
        f"{relay.url}/inspect/faults",
        content='{"action": "status", "status": 503}',
        headers={"content-type": "text/plain"},
    )
    assert response.status_code == 415
    assert response.json()["causes"] == ["got content-type 'text/plain'"]
    assert inspector.get("/inspect/faults")["rules"] == []


@pytest.mark.parametrize("origin", ["https://evil.example", "http://127.0.0.1:1", "null"])
def test_writes_and_mcp_from_a_foreign_origin_are_refused(relay: RelayMock, inspector: Inspector, origin: str) -> None:
    headers = {"origin": origin}
    assert httpx.delete(f"{relay.url}/inspect/envelopes", headers=headers).status_code == 403
    assert httpx.delete(f"{relay.url}/inspect/faults", headers=headers).status_code == 403
    mcp = httpx.post(
        f"{relay.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=headers, timeout=10
    )
    assert mcp.status_code == 403


def test_relay_mocks_own_pages_may_write(relay: RelayMock) -> None:
    own = {"origin": relay.url}
    created = httpx.post(f"{relay.url}/inspect/faults", json={"action": "latency", "latency_ms": 1}, headers=own)
    assert created.status_code == 201, created.text
    assert httpx.delete(f"{relay.url}/inspect/faults", headers=own).status_code in (200, 204)
    mcp = httpx.post(f"{relay.url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=own)
    assert mcp.status_code == 200 and mcp.json()["result"]["tools"]


# -- RELAY_INSPECT_TOKEN ---------------------------------------------------------------------


@pytest.fixture
def guarded(start_relay: Callable[..., RelayMock]) -> Iterator[RelayMock]:
    yield start_relay(RELAY_INSPECT_TOKEN=TOKEN)


def test_with_a_token_the_api_ui_and_mcp_ask_for_it(guarded: RelayMock) -> None:
    with httpx.Client(base_url=guarded.url, timeout=10) as http:
        for method, path in (("GET", "/inspect/envelopes"), ("GET", "/"), ("POST", "/mcp")):
            response = http.request(method, path, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
            assert response.status_code == 401, path
            assert "RELAY_INSPECT_TOKEN" in response.json()["detail"]
        assert (
            http.get("/inspect/envelopes", headers={"authorization": "Bearer wrong-token-0123456789"}).status_code
            == 401
        )
        assert http.get("/inspect/envelopes", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200
        # Probes stay open: compose's healthcheck knows no token.
        assert http.get("/api/relay/healthcheck/ready/").status_code == 200


def test_a_browser_opens_the_ui_once_with_the_token_and_keeps_it_in_a_strict_cookie(guarded: RelayMock) -> None:
    with httpx.Client(base_url=guarded.url, timeout=10) as http:
        opened = http.get("/", params={"token": TOKEN})
        assert opened.status_code == 303 and opened.headers["location"] == "/"
        cookie = opened.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        assert http.get("/").status_code == 200  # the client kept the cookie
        assert http.get("/inspect/stats").status_code == 200
    assert httpx.get(f"{guarded.url}/", params={"token": "wrong-token-0123456789"}).status_code == 401


def test_with_a_token_sdks_still_ingest_without_it(guarded: RelayMock) -> None:
    event_id = _ingest(guarded.url)
    stored = httpx.get(
        f"{guarded.url}/inspect/envelopes", params={"event_id": event_id}, headers={"authorization": f"Bearer {TOKEN}"}
    )
    assert stored.json()["envelopes"], stored.text


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("RELAY_INSPECT_TOKEN", "short", "at least 16 characters"),
        ("RELAY_ALLOWED_HOSTS", "https://my.box:9000", "not a host name"),
    ],
)
def test_a_bad_setting_stops_relay_mock_naming_it(tmp_path: Path, name: str, value: str, says: str) -> None:
    server = RelayMock(tmp_path, env={name: value})
    with pytest.raises(AssertionError, match="exited"):
        server.start()
    log = server.log.read_text()
    assert name in log and says in log
    assert "short" not in log or name != "RELAY_INSPECT_TOKEN", "the token was echoed"
