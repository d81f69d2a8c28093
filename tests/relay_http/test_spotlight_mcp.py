"""Spotlight's MCP tools on relay-mock, called by the official MCP Python SDK client (`mcp` on
PyPI) as an agent set up for Spotlight would: the four tool names with Spotlight's filters
(timeWindow, filename, limit/offset), answers in Spotlight's shape (Markdown text items, no
structured content); relay-mock's verifier and Relay view as tools beside them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import anyio
import pytest
from mcp.client.client import Client
from mcp_types import TextContent

from tests.relay_http.inspector import Inspector
from tests.relay_http.sdk import run_sdk
from tests.relay_http.wire import API, new_id
from tests.support.relay_server import RelayMock

T = TypeVar("T")
SPOTLIGHT_TOOLS = {"search_errors", "search_logs", "search_traces", "get_traces"}


def with_client(relay: RelayMock, use: Callable[[Client], Awaitable[T]]) -> T:
    async def run() -> T:
        async with Client(f"{relay.url}/mcp") as client:
            return await use(client)

    return anyio.run(run)


def call(relay: RelayMock, tool: str, arguments: dict[str, Any]) -> tuple[bool, list[str], Any]:
    """(is_error, the text items, structured content) of one tools/call."""

    async def use(client: Client) -> tuple[bool, list[str], Any]:
        result = await client.call_tool(tool, arguments)
        texts = [item.text for item in result.content if isinstance(item, TextContent)]
        assert len(texts) == len(result.content), "Spotlight's tools answer with text items only"
        return bool(result.is_error), texts, result.structured_content

    return with_client(relay, use)


@pytest.fixture(scope="module")
def sent(relay: RelayMock, inspector: Inspector) -> dict[str, Any]:
    """An error (raised in sdk_client.py), a transaction and Sentry logs, from the real SDK."""
    card = new_id()[:8]
    sdk = run_sdk(API.dsn(relay.url), "error", "transaction", "telemetry", card=card, name=f"GET /spot/{card}")
    inspector.wait("event", event_id=sdk["errors"][0])
    inspector.wait("log", timeout_s=15)
    return {**sdk, "card": card}


def test_the_sdk_client_lists_spotlights_four_tools_beside_relay_mocks(relay: RelayMock) -> None:
    async def use(client: Client) -> set[str]:
        return {tool.name for tool in (await client.list_tools()).tools}

    names = with_client(relay, use)

    assert SPOTLIGHT_TOOLS | {"verify_traces", "get_relay_view", "get_trace", "list_envelopes"} <= names


def test_search_errors_with_a_time_window_answers_in_spotlights_shape(relay: RelayMock, sent: dict[str, Any]) -> None:
    is_error, texts, structured = call(relay, "search_errors", {"filters": {"timeWindow": 300}})

    assert not is_error and structured is None
    [text] = [t for t in texts if sent["card"] in t]
    assert text.startswith("### Error\n\n```\nPaymentDeclined: card")
    assert '**Stacktrace:**\n```\n  File "sdk_client.py", line' in text
    assert sent["errors"][0] in text


def test_search_errors_by_filename_and_with_paging(relay: RelayMock, sent: dict[str, Any]) -> None:
    _, in_file, _ = call(relay, "search_errors", {"filters": {"filename": "sdk_client.py"}})
    _, elsewhere, _ = call(relay, "search_errors", {"filters": {"filename": "nowhere.tsx"}})
    _, first, _ = call(relay, "search_errors", {"filters": {"limit": 1, "offset": 0}})

    assert any(sent["card"] in text for text in in_file)
    assert len(elsewhere) == 1 and elsewhere[0].startswith("**No errors detected**")
    assert len(first) == 1 and first[0].startswith("### Error")


def test_search_logs_answers_one_text_per_log_record(relay: RelayMock, sent: dict[str, Any]) -> None:
    is_error, texts, _ = call(relay, "search_logs", {"filters": {"timeWindow": 300}})
    _, one, _ = call(relay, "search_logs", {"filters": {"limit": 1, "offset": 1}})

    assert not is_error
    assert len(texts) >= 3  # telemetry sends three logs
    assert all("\nAttributes:\n" in text for text in texts)
    assert one == [texts[1]]


def test_search_traces_then_get_traces_by_the_short_id(relay: RelayMock, sent: dict[str, Any]) -> None:
    trace_id = sent["transactions"][0]
    is_error, texts, _ = call(relay, "search_traces", {"filters": {"timeWindow": 300}})

    assert not is_error
    assert texts[0].startswith("# Local Traces (")
    [line] = [t for t in texts if t.startswith(f"**{trace_id[:8]}**")]
    assert f"GET /spot/{sent['card']}" in line and "| 1 spans |" in line
    assert texts[-1].startswith("\n**Next Steps:**")

    _, [tree], _ = call(relay, "get_traces", {"traceId": trace_id[:8]})
    root, child = tree.splitlines()
    assert root.startswith(f"GET /spot/{sent['card']} [")
    assert child.startswith("   └─ SELECT 1 [") and "· db.query ·" in child

    _, [missing], _ = call(relay, "get_traces", {"traceId": "0" * 32})
    assert missing.startswith(f"Trace `{'0' * 32}` not found")


def test_spotlight_filters_are_checked(relay: RelayMock) -> None:
    is_error, [text], _ = call(relay, "search_errors", {"filters": {"timeWindow": "an hour"}})

    assert is_error and "filters.timeWindow must be a number" in text


def test_the_verifier_and_relays_view_are_tools_too(relay: RelayMock, sent: dict[str, Any]) -> None:
    trace_id = sent["transactions"][0]
    is_error, _, report = call(relay, "verify_traces", {"trace_id": trace_id, "since_s": 3600})
    assert not is_error and report["traces_checked"] == 1

    _, _, envelopes = call(relay, "list_envelopes", {"trace_id": trace_id})
    envelope_id = envelopes["envelopes"][0]["id"]
    is_error, _, view = call(relay, "get_relay_view", {"envelope_id": envelope_id, "index": 0})
    assert not is_error and view["type"] == "transaction"
