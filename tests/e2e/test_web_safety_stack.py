"""The four attacks of a website on the sandbox, against the compose stack's relay-mock as a
user runs it (its published port): a DNS-rebinding Host on the inspection API and on MCP, and
cross-site writes of fault rules and expectations. Each is refused and changes nothing, while
the services in their containers keep ingesting (their DSNs name `relay-mock:9000`)."""

from __future__ import annotations

import httpx
import pytest

from tests.support.relay import StackRelay
from tests.support.stack import Stack

pytestmark = pytest.mark.stack

REBINDING = {"host": "rebind.evil.example"}
CROSS_SITE = {"origin": "https://evil.example", "content-type": "text/plain"}


def test_a_rebinding_page_cannot_read_envelopes_or_drive_mcp(stack: Stack) -> None:
    envelopes = httpx.get(f"{stack.relay_url}/inspect/envelopes", headers=REBINDING, timeout=10)
    mcp = httpx.post(
        f"{stack.relay_url}/mcp", json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"}, headers=REBINDING
    )
    assert envelopes.status_code == 403 and "rebind.evil.example" in envelopes.json()["detail"]
    assert mcp.status_code == 403


def test_a_cross_site_page_cannot_add_fault_rules_or_expectations(stack: Stack, relay: StackRelay) -> None:
    faults = httpx.post(f"{stack.relay_url}/inspect/faults", content='{"action": "drop"}', headers=CROSS_SITE)
    expectations = httpx.post(
        f"{stack.relay_url}/inspect/expectations",
        content='{"expectations": [{"trace_id": "' + "b" * 32 + '", "scenario": "poison"}]}',
        headers=CROSS_SITE,
    )
    assert (faults.status_code, expectations.status_code) == (403, 403)
    rules = httpx.get(f"{stack.relay_url}/inspect/faults", timeout=10).json()["rules"]
    assert not any(rule["action"] == "drop" for rule in rules)
    poisoned = httpx.get(f"{stack.relay_url}/inspect/expectations", params={"trace_id": "b" * 32}, timeout=10)
    assert "poison" not in poisoned.text


def test_the_services_in_their_containers_still_ingest(stack: Stack, relay: StackRelay) -> None:
    response = httpx.get(f"{stack.api_url}/test-message", params={"level": "info"}, timeout=10)
    assert response.status_code == 200
    event_id = response.json().get("event_id")
    assert event_id, response.text
    relay.wait("event", event_id=event_id)
