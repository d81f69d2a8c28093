"""A website open in the same browser cannot change relay-mock: a page served from another
local origin fires the requests a browser sends without asking (no-cors POSTs), and the ones
it must ask for (DELETE), at relay-mock; every one is refused and nothing changes. Nor can it
read: neither the inspection API nor Spotlight's `/stream` (fetch or EventSource). The UI
itself still works, from 127.0.0.1 and from localhost."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from relay_mock.client import RelayClient
from tests.browser.traffic import send
from tests.support.relay_server import RelayMock

ATTACK = """<!doctype html><title>cat pictures</title><script>
const relay = new URL(location.href).searchParams.get("relay");
const shots = [
  ["/inspect/faults", {method: "POST", mode: "no-cors", headers: {"content-type": "text/plain"},
                       body: JSON.stringify({action: "status", status: 503})}],
  ["/inspect/expectations", {method: "POST", mode: "no-cors", headers: {"content-type": "text/plain"},
                             body: JSON.stringify({expectations: [{trace_id: "a".repeat(32), scenario: "poison"}]})}],
  ["/mcp", {method: "POST", mode: "no-cors", headers: {"content-type": "text/plain"},
            body: JSON.stringify({jsonrpc: "2.0", id: 1, method: "tools/call",
                                  params: {name: "list_envelopes", arguments: {}}})}],
  ["/inspect/envelopes", {method: "DELETE"}],
  ["/inspect/faults", {method: "DELETE"}],
  ["/inspect/envelopes", {method: "GET"}],
  ["/stream", {method: "GET"}],
];
window.outcomes = Promise.all(shots.map(async ([path, init]) => {
  try {
    const response = await fetch(relay + path, init);
    return `${init.method} ${path}: ${response.type} ${response.status}`;
  } catch (err) {
    return `${init.method} ${path}: failed`;
  }
}));
// Spotlight's stream, as Spotlight's UI reads it: an EventSource. relay-mock sends it no CORS
// headers, so the browser must refuse the page every event (the stream holds what was stored).
window.sse = new Promise((resolve) => {
  const source = new EventSource(relay + "/stream");
  source.addEventListener("application/x-sentry-envelope", () => { source.close(); resolve("read an envelope"); });
  source.onerror = () => { source.close(); resolve("refused"); };
});
</script>"""


@pytest.fixture
def attacker_site() -> Iterator[str]:
    """Another local origin: a page on its own port of 127.0.0.1."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = ATTACK.encode()
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()


def _state(relay_url: str) -> dict[str, Any]:
    with RelayClient(relay_url) as relay:
        return {
            "envelopes": relay.envelopes().envelopes,
            "faults": relay.faults(),
            "expectations": relay.expectations(),
            "stats": relay.stats().envelopes,
        }


def test_another_sites_requests_change_nothing(browser: Browser, own_relay: RelayMock, attacker_site: str) -> None:
    send(own_relay.url, "order")
    with RelayClient(own_relay.url) as relay:
        relay.add_fault(action="latency", latency_ms=1, project=999)
    before = _state(own_relay.url)
    assert before["envelopes"] and before["faults"]

    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{attacker_site}/?relay={own_relay.url}")
    outcomes = page.evaluate("window.outcomes")
    sse = page.evaluate("window.sse")
    context.close()

    # no-cors answers are opaque to the page (status 0) whatever relay-mock said; the DELETEs
    # and the read need CORS, which relay-mock's inspection API never grants.
    assert outcomes == [
        "POST /inspect/faults: opaque 0",
        "POST /inspect/expectations: opaque 0",
        "POST /mcp: opaque 0",
        "DELETE /inspect/envelopes: failed",
        "DELETE /inspect/faults: failed",
        "GET /inspect/envelopes: failed",
        "GET /stream: failed",
    ]
    assert sse == "refused"
    assert _state(own_relay.url) == before


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_the_ui_works_from_its_own_names(browser: Browser, own_relay: RelayMock, host: str) -> None:
    base = own_relay.url.replace("127.0.0.1", host)
    context = browser.new_context(base_url=base)
    context.set_default_timeout(10_000)
    page: Page = context.new_page()
    crashes: list[str] = []
    page.on("pageerror", lambda exc: crashes.append(str(exc)))
    try:
        page.goto("/#/faults")
        form = page.locator("form.fault-form")
        form.locator("select[name=action]").select_option("status")
        form.locator("input[name=status]").fill("503")
        form.locator("input[name=project]").fill("999")
        form.get_by_role("button", name="Add rule").click()
        rule = page.locator("table.faults tbody tr", has_text="answer 503")
        expect(rule).to_have_count(1)
        rule.get_by_role("button", name="Delete").click()
        expect(page.locator("table.faults")).to_have_count(0)
    finally:
        context.close()
    assert not crashes, crashes
