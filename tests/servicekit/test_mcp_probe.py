"""`check_sentry_mcp_connection`: a real MCP `initialize` handshake, reported as
ok / unreachable / not_mcp / error, never raised."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from servicekit.mcp_probe import check_sentry_mcp_connection
from tests.support.services import free_port
from tests.support.stack import Stack

pytestmark = pytest.mark.anyio


@contextmanager
def answering(body: bytes, content_type: str) -> Iterator[str]:
    """A local HTTP server that answers every POST with `body`; yields its URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("content-length", 0)))
            self.send_response(200)
            self.send_header("content-type", content_type)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mcp"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _jsonrpc(**fields: object) -> bytes:
    return json.dumps({"jsonrpc": "2.0", "id": 1, **fields}).encode()


@pytest.mark.stack
async def test_relay_mocks_mcp_server_completes_the_handshake(stack: Stack) -> None:
    status = await check_sentry_mcp_connection(f"{stack.relay_url}/mcp")

    assert status.status == "ok", status.detail
    assert status.server_name
    assert status.protocol_version
    assert status.latency_ms is not None


async def test_a_closed_port_is_unreachable() -> None:
    status = await check_sentry_mcp_connection(f"http://127.0.0.1:{free_port()}/mcp", timeout=2)

    assert status.status == "unreachable"
    assert "ConnectError" in status.detail


@pytest.mark.stack
async def test_an_http_endpoint_that_is_not_mcp_is_not_mcp(stack: Stack) -> None:
    status = await check_sentry_mcp_connection(f"{stack.api_url}/health")

    assert status.status == "not_mcp"
    assert "HTTP 405" in status.detail


async def test_a_json_rpc_error_answer_is_an_error() -> None:
    body = _jsonrpc(error={"code": -32602, "message": "unsupported protocol version"})
    with answering(body, "application/json") as url:
        status = await check_sentry_mcp_connection(url)

    assert status.status == "error"
    assert status.detail == "initialize failed: unsupported protocol version"


async def test_an_initialize_result_sent_as_server_sent_events_is_ok() -> None:
    result = {"protocolVersion": "2025-06-18", "serverInfo": {"name": "stub", "version": "9"}, "capabilities": {}}
    with answering(b"event: message\ndata: " + _jsonrpc(result=result) + b"\n\n", "text/event-stream") as url:
        status = await check_sentry_mcp_connection(url)

    assert (status.status, status.server_name, status.server_version) == ("ok", "stub", "9")


async def test_a_json_rpc_answer_without_an_initialize_result_is_not_mcp() -> None:
    with answering(_jsonrpc(result={"hello": "world"}), "application/json") as url:
        status = await check_sentry_mcp_connection(url)

    assert status.status == "not_mcp"
