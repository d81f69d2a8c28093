"""relay-mock's MCP server over streamable HTTP, as an MCP client speaks to it: the handshake
(initialize, notifications/initialized), tools/list, and tools/call of every tool over data the
real SDK sent; failures come back as JSON-RPC errors or as tool results flagged isError."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest

from tests.relay_http.inspector import Inspector
from tests.relay_http.sdk import run_sdk
from tests.relay_http.wire import API, DOWNSTREAM, new_id
from tests.support.polling import poll
from tests.support.relay_server import RelayMock

PROTOCOL = "2025-06-18"
TOOLS = {"search_errors", "get_error", "list_traces", "get_trace", "list_envelopes", "search_logs", "list_leaks"}
# Spotlight's tools and the verifier's and Relay view's (tests/relay_http/test_spotlight_mcp.py calls them).
TOOLS |= {"search_traces", "get_traces", "verify_traces", "get_relay_view"}
TOOLS |= {"forwarding"}  # tests/relay_http/test_forwarding.py calls it


class McpClient:
    """The client side of MCP's streamable HTTP transport: one JSON-RPC message per POST."""

    def __init__(self, url: str) -> None:
        self.http = httpx.Client(
            base_url=url,
            timeout=30,
            headers={"Accept": "application/json, text/event-stream", "Content-Type": "application/json"},
        )
        self.ids = itertools.count(1)

    def post(self, message: dict[str, Any]) -> httpx.Response:
        return self.http.post("/mcp", content=orjson.dumps({"jsonrpc": "2.0", **message}))

    def request(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The JSON-RPC response (with `result` or `error`)."""
        request_id = next(self.ids)
        response = self.post({"id": request_id, "method": method, "params": params or {}})
        assert response.status_code == 200, response.text
        answer = response.json()
        assert (answer["jsonrpc"], answer["id"]) == ("2.0", request_id)
        return dict(answer)

    def call(self, tool: str, **arguments: Any) -> dict[str, Any]:
        """A tools/call result: content, structuredContent, isError."""
        return dict(self.request("tools/call", {"name": tool, "arguments": arguments})["result"])

    def close(self) -> None:
        self.http.close()


@pytest.fixture(scope="module")
def sent(relay: RelayMock, inspector: Inspector) -> dict[str, Any]:
    """An error and an api → downstream trace, from the real SDK."""
    card = new_id()[:8]
    error = run_sdk(API.dsn(relay.url), "error", card=card)
    hop = run_sdk(API.dsn(relay.url), "head", downstream_dsn=DOWNSTREAM.dsn(relay.url))
    inspector.wait("transaction", count=2, trace_id=hop["trace_id"])
    return {"card": card, "event_id": error["errors"][0], "trace_id": hop["trace_id"]}


@pytest.fixture
def mcp(relay: RelayMock) -> Iterator[McpClient]:
    """A client that went through the handshake."""
    client = McpClient(relay.url)
    initialized = client.request(
        "initialize",
        {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "pytest", "version": "1.0"}},
    )
    assert "result" in initialized, initialized
    client.http.headers["MCP-Protocol-Version"] = PROTOCOL
    assert client.post({"method": "notifications/initialized"}).status_code == 202
    yield client
    client.close()


def test_initialize_agrees_on_the_protocol_version_and_offers_tools(relay: RelayMock) -> None:
    client = McpClient(relay.url)

    result = client.request(
        "initialize",
        {"protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "pytest", "version": "1.0"}},
    )["result"]

    assert result["protocolVersion"] == PROTOCOL
    assert result["capabilities"]["tools"] == {"listChanged": False}
    assert result["serverInfo"]["name"] == "relay-mock"
    client.close()


def test_a_notification_is_accepted_without_an_answer(mcp: McpClient) -> None:
    response = mcp.post({"method": "notifications/initialized"})

    assert (response.status_code, response.content) == (202, b"")


def test_tools_list_describes_every_tool_with_an_input_schema(mcp: McpClient) -> None:
    tools = mcp.request("tools/list")["result"]["tools"]

    assert {tool["name"] for tool in tools} == TOOLS
    assert all(tool["description"] and tool["inputSchema"]["type"] == "object" for tool in tools)


def test_each_tools_arguments_are_its_operations_parameters(mcp: McpClient, inspector: Inspector) -> None:
    """A tool is a view of an inspection operation: an argument has the parameter's schema (bounds,
    default, enum, pattern), as /inspect/openapi.json declares it, under the tool's name for it."""
    tools = {tool["name"]: tool["inputSchema"] for tool in mcp.request("tools/list")["result"]["tools"]}
    paths = inspector.get("/inspect/openapi.json")["paths"]

    def parameter(path: str, name: str) -> dict[str, Any]:
        (found,) = [p for p in paths[path]["get"]["parameters"] if p["name"] == name]
        return {**found["schema"], "description": found["description"]}

    assert tools["search_errors"]["properties"]["limit"] == parameter("/inspect/errors", "limit")
    assert tools["search_errors"]["properties"]["query"] == parameter("/inspect/errors", "q")
    assert tools["search_logs"]["properties"]["level"] == parameter("/inspect/logs", "level")
    assert tools["list_traces"]["properties"]["limit"] == parameter("/inspect/traces", "limit")
    assert tools["list_envelopes"]["properties"]["trace_id"] == parameter("/inspect/envelopes", "trace_id")
    assert tools["list_leaks"]["properties"]["limit"] == parameter("/inspect/leaks", "limit")
    assert tools["get_trace"]["properties"]["trace_id"] == parameter("/inspect/traces/{trace_id}", "trace_id")
    assert tools["get_trace"]["required"] == ["trace_id"]


def test_a_trace_id_is_read_as_the_api_reads_it(mcp: McpClient, sent: dict[str, Any]) -> None:
    """Upper case and a UUID's dashes, as the inspection API takes them."""
    trace_id = sent["trace_id"]
    dashed = f"{trace_id[:8]}-{trace_id[8:12]}-{trace_id[12:16]}-{trace_id[16:20]}-{trace_id[20:]}".upper()

    result = mcp.call("get_trace", trace_id=dashed)

    assert result["isError"] is False
    assert result["structuredContent"]["trace_id"] == trace_id


def test_search_errors_finds_the_sdks_exception(mcp: McpClient, sent: dict[str, Any]) -> None:
    result = mcp.call("search_errors", query=sent["card"])

    assert result["isError"] is False
    [found] = result["structuredContent"]["errors"]
    assert (found["event_id"], found["type"]) == (sent["event_id"], "PaymentDeclined")
    assert orjson.loads(result["content"][0]["text"]) == result["structuredContent"]


def test_get_error_shows_the_stack_trace(mcp: McpClient, sent: dict[str, Any]) -> None:
    result = mcp.call("get_error", event_id=sent["event_id"])

    frames = result["structuredContent"]["exceptions"][-1]["stacktrace"]["frames"]
    assert [frame["function"] for frame in frames][-2:] == ["checkout", "charge"]


def test_list_traces_includes_the_two_service_trace(mcp: McpClient, sent: dict[str, Any]) -> None:
    traces = mcp.call("list_traces", limit=200)["structuredContent"]["traces"]

    [trace] = [t for t in traces if t["trace_id"] == sent["trace_id"]]
    assert (trace["services"], trace["complete"]) == (["api", "downstream"], True)


def test_get_trace_returns_the_tree(mcp: McpClient, sent: dict[str, Any]) -> None:
    trace = mcp.call("get_trace", trace_id=sent["trace_id"])["structuredContent"]

    assert trace["transactions"] == 2
    assert trace["roots"][0]["description"] == "POST /orders"


def test_list_envelopes_filters_by_trace_and_type(mcp: McpClient, sent: dict[str, Any]) -> None:
    envelopes = mcp.call("list_envelopes", trace_id=sent["trace_id"], type="transaction")["structuredContent"]

    assert sorted(e["project"]["name"] for e in envelopes["envelopes"]) == ["api", "downstream"]


def test_search_logs_finds_the_sdks_logs_of_a_trace_by_text_and_level(relay: RelayMock, mcp: McpClient) -> None:
    sent = run_sdk(API.dsn(relay.url), "telemetry")

    result = poll(
        lambda: (
            found
            if (found := mcp.call("search_logs", trace_id=sent["trace_id"], query="SKU-9"))["structuredContent"]["logs"]
            else None
        ),
        deadline_s=20,
        what="the SDK's log",
    )

    [log] = result["structuredContent"]["logs"]
    assert (log["body"], log["level"], log["span_id"]) == ("stock short for SKU-9", "warn", sent["span_id"])
    warnings = mcp.call("search_logs", trace_id=sent["trace_id"], level="warn")["structuredContent"]["logs"]
    assert [found["body"] for found in warnings] == ["stock short for SKU-9"]


def test_an_unknown_tool_is_a_json_rpc_error(mcp: McpClient) -> None:
    error = mcp.request("tools/call", {"name": "drop_database", "arguments": {}})["error"]

    assert error["code"] == -32602
    assert "drop_database" in error["message"]


def test_an_unknown_method_is_a_json_rpc_error(mcp: McpClient) -> None:
    assert mcp.request("resources/list")["error"]["code"] == -32601


def test_a_body_that_is_not_json_is_a_parse_error(mcp: McpClient) -> None:
    response = mcp.http.post("/mcp", content=b"{not json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32700


BAD_CALLS = [
    ("get_trace", {}, "missing argument trace_id"),
    ("get_trace", {"trace_id": "ABC"}, "trace_id: expected 32 hex characters, got 'ABC'"),
    ("search_errors", {"limit": "ten"}, "limit: must be an integer"),
    ("search_errors", {"limit": 1001}, "limit: must be between 1 and 1000"),
    ("list_traces", {"limit": 501}, "limit: must be between 1 and 500"),
    ("verify_traces", {"since_s": 0}, "since_s: must be between 1 and 86400"),
    ("list_envelopes", {"colour": "red"}, "unknown argument colour"),
    ("get_error", {"event_id": "0" * 32}, "no error event"),
    ("search_logs", {"level": "loud"}, "level: expected one of trace, debug, info, warn, warning, error"),
]


@pytest.mark.parametrize(("tool", "arguments", "problem"), BAD_CALLS, ids=[p for _, _, p in BAD_CALLS])
def test_a_tool_call_that_cannot_be_answered_is_a_result_flagged_is_error(
    mcp: McpClient, tool: str, arguments: dict[str, Any], problem: str
) -> None:
    result = mcp.call(tool, **arguments)

    assert result["isError"] is True
    assert problem in result["structuredContent"]["error"]
