"""Check that a Model Context Protocol server answers, with a real `initialize` handshake
over streamable HTTP (JSON-RPC 2.0 in a POST; the answer is JSON or an SSE stream)."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import Any, Literal

import httpx

PROTOCOL_VERSION = "2025-06-18"

Status = Literal["ok", "unreachable", "not_mcp", "error"]


@dataclass(frozen=True)
class MCPStatus:
    status: Status
    url: str
    detail: str
    server_name: str | None = None
    server_version: str | None = None
    protocol_version: str | None = None
    latency_ms: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def check_sentry_mcp_connection(
    url: str, *, timeout: float = 3.0, client: httpx.AsyncClient | None = None
) -> MCPStatus:
    """Run the MCP `initialize` handshake against `url` and say how it went. Never raises."""
    request = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": PROTOCOL_VERSION,
            "capabilities": {},
            "clientInfo": {"name": "sentry-sandbox-healthcheck", "version": "1"},
        },
    }
    headers = {"accept": "application/json, text/event-stream", "content-type": "application/json"}
    started = time.perf_counter()
    owned = client is None
    http = client or httpx.AsyncClient(timeout=timeout)
    try:
        response = await http.post(url, json=request, headers=headers, timeout=timeout)
        latency = round((time.perf_counter() - started) * 1000, 1)
        message = _read_message(response)
        if message is None:
            return MCPStatus(
                "not_mcp", url, f"HTTP {response.status_code} without a JSON-RPC answer", latency_ms=latency
            )
        if "error" in message:
            error = message["error"] if isinstance(message["error"], dict) else {}
            return MCPStatus(
                "error", url, f"initialize failed: {error.get('message', message['error'])}", latency_ms=latency
            )
        result = message.get("result")
        if not isinstance(result, dict) or "protocolVersion" not in result:
            return MCPStatus("not_mcp", url, "JSON-RPC answer without an initialize result", latency_ms=latency)
        server_info = result.get("serverInfo")
        server: dict[str, Any] = server_info if isinstance(server_info, dict) else {}
        session = response.headers.get("mcp-session-id")
        notify_headers = {**headers, **({"mcp-session-id": session} if session else {})}
        # Completing the handshake is part of the protocol; a failure here is not fatal to the check.
        try:
            await http.post(url, json={"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=notify_headers)
        except httpx.HTTPError:
            pass
        return MCPStatus(
            "ok",
            url,
            "initialize handshake completed",
            server_name=server.get("name"),
            server_version=server.get("version"),
            protocol_version=str(result["protocolVersion"]),
            latency_ms=latency,
        )
    except (httpx.ConnectError, httpx.TimeoutException, httpx.NetworkError) as exc:
        return MCPStatus("unreachable", url, f"{type(exc).__name__}: {exc}" or type(exc).__name__)
    except httpx.HTTPError as exc:
        return MCPStatus("error", url, f"{type(exc).__name__}: {exc}")
    finally:
        if owned:
            await http.aclose()


def _read_message(response: httpx.Response) -> dict[str, Any] | None:
    content_type = response.headers.get("content-type", "")
    text = response.text
    candidates: list[str]
    if content_type.startswith("text/event-stream"):
        candidates = [line[5:].strip() for line in text.splitlines() if line.startswith("data:")]
    else:
        candidates = [text]
    for candidate in candidates:
        try:
            message = json.loads(candidate)
        except ValueError:
            continue
        if (
            isinstance(message, dict)
            and message.get("jsonrpc") == "2.0"
            and ("result" in message or "error" in message)
        ):
            return message
    return None
