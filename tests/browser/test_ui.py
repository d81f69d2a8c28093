"""relay-mock's web UI in a real headless Chromium, over data sent by the real sentry-sdk."""

from __future__ import annotations

import re
import secrets
from typing import Any, cast

from playwright.sync_api import Dialog, Locator, Page, expect

from relay_mock.client import EnvelopeFilters, RelayClient
from tests.browser.sdk_traffic import HOSTILE_IMG, HOSTILE_SCRIPT
from tests.browser.traffic import send
from tests.support.relay_server import RelayMock

expect.set_options(timeout=10_000)


def _envelope_id(relay_url: str, **filters: str) -> str:
    with RelayClient(relay_url) as relay:
        envelopes = relay.envelopes(payloads=False, **cast(EnvelopeFilters, filters)).envelopes
    assert envelopes, f"no envelope matches {filters}"
    return envelopes[0].id


def _panel(page: Page, title: str) -> Locator:
    return page.locator("section.panel").filter(has=page.get_by_role("heading", name=title, exact=True))


def test_envelope_list_shows_stored_envelopes_and_live_arrivals(
    page: Page, relay_url: str, seeded: dict[str, Any]
) -> None:
    with RelayClient(relay_url) as relay:
        stored = relay.envelopes(payloads=False).envelopes
    page.goto("/")
    rows = page.locator("table.envelopes tbody tr")
    expect(rows).to_have_count(len(stored))
    expect(rows.first).to_have_attribute("data-id", stored[0].id)
    expect(page.locator(".live")).to_have_attribute("data-state", "connected")
    expect(page.locator(".live")).to_have_text("live")

    name = f"live-{secrets.token_hex(4)}"
    sent = send(relay_url, "message", "--transaction", name)

    arrived = rows.filter(has_text=name)
    expect(arrived).to_have_count(1)
    expect(rows.first).to_contain_text(name)  # newest first
    expect(arrived).to_contain_text(sent["event_id"][:8])
    expect(page.locator(".stored-count")).not_to_have_text("…")


def test_the_live_indicator_follows_the_stream_through_a_relay_restart(own_relay: RelayMock, page: Page) -> None:
    page.goto(f"{own_relay.url}/")
    live = page.locator(".live")
    expect(live).to_have_attribute("data-state", "connected")

    own_relay.crash()
    expect(live).to_have_attribute("data-state", "reconnecting")
    expect(live).to_have_text("reconnecting…")
    own_relay.start()
    expect(live).to_have_attribute("data-state", "connected")

    name = f"after-restart-{secrets.token_hex(4)}"
    send(own_relay.url, "message", "--transaction", name)
    expect(page.locator("table.envelopes tbody tr", has_text=name)).to_have_count(1)


def test_live_envelopes_outside_the_filters_are_not_shown(page: Page, relay_url: str, seeded: dict[str, Any]) -> None:
    page.goto("/#/envelopes?project=downstream")
    expect(page.locator(".live")).to_have_attribute("data-state", "connected")
    expect(page.locator("table.envelopes tbody tr").first).to_be_visible()
    expect(page.locator("table.envelopes tbody tr .chip", has_text="api")).to_have_count(0)

    hidden, shown = f"hidden-{secrets.token_hex(4)}", f"shown-{secrets.token_hex(4)}"
    send(relay_url, "message", "--transaction", hidden, "--project", "api")
    # A barrier, not a sleep: the stream is ordered, so once the later one shows, the earlier was judged.
    send(relay_url, "message", "--transaction", shown, "--project", "downstream")

    expect(page.locator("table.envelopes tbody tr", has_text=shown)).to_have_count(1)
    expect(page.locator("table.envelopes tbody tr", has_text=hidden)).to_have_count(0)


def test_an_envelope_shows_its_request_header_items_and_payload(
    page: Page, relay_url: str, seeded: dict[str, Any]
) -> None:
    trace_id = seeded["order"]["trace_id"]
    envelope_id = _envelope_id(relay_url, trace_id=trace_id, project="downstream", type="transaction")
    page.goto("/#/envelopes")
    page.locator(f'tr[data-id="{envelope_id}"]').click()

    expect(page).to_have_url(re.compile(f"#/envelopes/{envelope_id}$"))
    expect(page.locator("h1")).to_contain_text(envelope_id)
    expect(_panel(page, "Request")).to_contain_text("sentry.python")
    expect(page.locator(".dsc")).to_contain_text(trace_id)
    item = page.locator("section.item")
    expect(item).to_have_count(1)
    expect(item.locator("h2 .badge")).to_have_text("transaction")
    expect(item.locator(".payload pre.json")).to_contain_text('"transaction": "POST /reservations"')
    expect(item.locator(".payload pre.json")).to_contain_text("SELECT quantity FROM stock WHERE sku = %s FOR UPDATE")
    expect(page.get_by_role("link", name="Raw bytes")).to_have_attribute(
        "href", f"/inspect/envelopes/{envelope_id}/raw"
    )
    page.get_by_role("link", name="Trace view").click()
    expect(page).to_have_url(re.compile(f"#/traces/{trace_id}$"))


def test_a_trace_is_a_waterfall_across_both_services(page: Page, seeded: dict[str, Any]) -> None:
    trace_id = seeded["order"]["trace_id"]
    page.goto("/#/traces")
    page.locator(f'tr[data-trace-id="{trace_id}"]').click()

    expect(page.locator(".trace-summary .legend .chip")).to_have_text(["api", "downstream"])
    expect(page.locator(".trace-summary .badge.ok").first).to_have_text("verified")
    api_tx = page.locator('.wf-row[data-kind="transaction"][data-service="api"]')
    down_tx = page.locator('.wf-row[data-kind="transaction"][data-service="downstream"]')
    expect(api_tx).to_contain_text("POST /orders")
    expect(down_tx).to_contain_text("POST /reservations")
    # The downstream transaction hangs under the api's http.client span, one level deeper.
    call = page.locator(
        ".wf-node", has=page.locator(':scope > .wf-row[data-kind="span"]', has_text="POST http://downstream")
    )
    expect(call.locator('.wf-children .wf-row[data-kind="transaction"]')).to_contain_text("POST /reservations")
    spans = page.locator('.wf-row[data-kind="span"]')
    expect(spans.filter(has_text="SELECT quantity FROM stock")).to_have_count(1)
    expect(spans.filter(has_text="INSERT INTO orders")).to_have_count(1)
    assert spans.count() >= 8
    expect(page.locator(".wf-node.broken")).to_have_count(0)
    bar = down_tx.locator(".wf-bar")
    expect(bar).to_have_attribute("style", re.compile(r"left: [1-9]"))  # starts after the trace does

    down_tx.click()
    expect(page).to_have_url(re.compile(r"#/envelopes/[0-9a-f]{32}$"))
    expect(page.locator("section.item .payload pre.json")).to_contain_text('"transaction": "POST /reservations"')


def test_a_broken_link_is_highlighted_with_its_reason(page: Page, seeded: dict[str, Any]) -> None:
    orphan = seeded["orphan"]
    page.goto(f"/#/traces/{orphan['trace_id']}")

    broken_tx = page.locator(".wf-node.broken", has=page.locator(':scope > .wf-row[data-kind="transaction"]'))
    expect(broken_tx).to_have_count(1)
    expect(broken_tx.locator(":scope > .wf-row")).to_contain_text("POST /reservations")
    expect(broken_tx.locator(":scope > .wf-row")).to_have_css("outline-style", "solid")
    expect(broken_tx.locator(":scope > .wf-notes")).to_contain_text(
        f"hangs on span {orphan['downstream']['parent_span_id']}, which is not in the trace"
    )
    # The call was answered, by the transaction hung on the wrong span: one broken link, as the
    # verifier (the same code) reports it, with its verdict and findings on the page.
    expect(page.locator(".broken-panel li")).to_have_count(1)
    expect(page.locator(".trace-summary .badge.bad").first).to_have_text("failed")
    expect(page.locator(".verification-panel h2")).to_contain_text("Verifier: failed")
    expect(page.locator(".verification-panel li").filter(has_text="linkage / orphan")).to_have_count(1)
    expect(page.locator(".trace-summary")).to_contain_text("DSC mismatch (2)")
    expect(page.locator(".dsc-mismatch td.differs").first).to_be_visible()


def test_an_error_shows_its_exception_stack_trace_and_breadcrumbs(page: Page, seeded: dict[str, Any]) -> None:
    sent = seeded["error"]
    page.goto("/#/errors")
    page.locator(f'tr[data-event-id="{sent["event_id"]}"]').click()

    expect(page.locator("h1")).to_contain_text("OrderNotFound order o-404 does not exist")
    exceptions = page.locator(".exception")
    expect(exceptions).to_have_count(2)  # the KeyError that caused it, then OrderNotFound
    expect(exceptions.first.locator(".exc-type")).to_have_text("KeyError")
    last = exceptions.last
    expect(last.locator(".exc-title")).to_contain_text("OrderNotFound: order o-404 does not exist")
    frame = last.locator(".frame.in-app").filter(has=page.locator(".frame-fn", has_text=re.compile("^price_order$")))
    expect(frame.locator(".ctx-line.current")).to_contain_text(
        'raise OrderNotFound(f"order {order_id} does not exist")'
    )
    expect(last.locator(".frame").last).to_contain_text("price_order")  # most recent call last
    crumbs = page.locator("table.breadcrumbs tbody tr")
    expect(crumbs.filter(has_text="SELECT * FROM orders WHERE id = %s")).to_have_count(1)
    expect(page.locator(".tag", has_text="customer")).to_contain_text("acme")
    expect(page.get_by_role("link", name="Trace view")).to_have_attribute("href", f"#/traces/{sent['trace_id']}")


def test_stats_show_what_is_stored(page: Page, relay_url: str, seeded: dict[str, Any]) -> None:
    with RelayClient(relay_url) as relay:
        stats = relay.stats().model_dump()
    page.goto("/#/stats")

    stored = page.locator(".card", has_text="envelopes stored").locator(".card-value")
    expect(stored).to_have_text(str(stats["envelopes"]["stored"]))
    by_type = _panel(page, "Items by type")
    expect(by_type.locator("tr", has_text="transaction")).to_contain_text(str(stats["items_by_type"]["transaction"]))
    projects = _panel(page, "By project").locator("tbody tr")
    expect(projects).to_have_count(len(stats["by_project"]))
    expect(projects.filter(has_text="downstream")).to_contain_text(str(stats["by_project"]["downstream"]["envelopes"]))
    expect(_panel(page, "Recent refusals")).to_be_visible()


def test_captured_markup_renders_as_text_everywhere(page: Page, relay_url: str, seeded: dict[str, Any]) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    hostile = seeded["hostile"]
    error_envelope = _envelope_id(relay_url, event_id=hostile["event_id"])
    views = {
        "/#/envelopes": HOSTILE_SCRIPT,
        f"/#/envelopes/{error_envelope}": HOSTILE_IMG,
        "/#/traces": HOSTILE_SCRIPT,
        f"/#/traces/{hostile['trace_id']}": HOSTILE_IMG,
        "/#/errors": HOSTILE_IMG,
        f"/#/errors/{hostile['event_id']}": HOSTILE_IMG,
        f"/#/errors/{hostile['message_id']}": HOSTILE_IMG,
    }
    for url, text in views.items():
        page.goto(url)
        expect(page.get_by_text(text, exact=False).first).to_be_visible()
        expect(page.locator("img")).to_have_count(0)
        # The only script is the UI's own module.
        expect(page.locator("script")).to_have_count(1)
        expect(page.locator("script")).to_have_attribute("src", "/ui/app.js")
        assert page.locator("[onerror]").count() == 0, url
    expect(page.locator("h1")).to_contain_text(HOSTILE_IMG)
    assert dialogs == []


def test_api_errors_are_shown_not_swallowed(page: Page) -> None:
    page.goto("/#/envelopes/no-such-envelope")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("GET /inspect/envelopes/no-such-envelope → 404")
    expect(alert).to_contain_text("no envelope no-such-envelope")


def test_fault_rules_can_be_added_and_removed(page: Page) -> None:
    page.goto("/#/faults")
    form = page.locator("form.fault-form")
    form.locator("select[name=action]").select_option("status")
    form.locator("input[name=status]").fill("503")
    form.locator("input[name=project]").fill("999")  # no such project: the rule never fires
    form.get_by_role("button", name="Add rule").click()

    rule = page.locator("table.faults tbody tr", has_text="answer 503")
    expect(rule).to_have_count(1)
    expect(rule).to_contain_text("999")
    rule.get_by_role("button", name="Delete").click()
    expect(page.locator("table.faults")).to_have_count(0)


def test_faults_view_shows_the_servers_refusal_of_a_rule(page: Page) -> None:
    """A rule relay-mock refuses (a `status` rule must answer 400-599): the form shows the
    server's own answer, status, detail and causes, and adds nothing."""
    page.goto("/#/faults")
    form = page.locator("form.fault-form")
    form.locator("select[name=action]").select_option("status")
    form.locator("input[name=status]").fill("200")
    form.get_by_role("button", name="Add rule").click()

    alert = form.get_by_role("alert")
    expect(alert).to_contain_text("POST /inspect/faults → 422")
    expect(alert.locator(".error-detail")).to_contain_text("status")
    expect(alert.locator(".error-causes li").first).to_be_visible()
    expect(page.locator("table.faults")).to_have_count(0)


def test_faults_view_shows_a_rule_deleted_meanwhile(page: Page, relay_url: str) -> None:
    """The rule list is older than the server's: deleting a rule someone else removed shows
    relay-mock's 404 beside the rule, not a silent success."""
    with RelayClient(relay_url) as relay:
        rule = relay.add_fault({"action": "status", "status": 503, "project": 999})
        page.goto("/#/faults")
        row = page.locator(f'table.faults tbody tr[data-rule-id="{rule.id}"]')
        expect(row).to_have_count(1)
        relay.remove_fault(rule.id)
    row.get_by_role("button", name="Delete").click()
    expect(row.get_by_role("alert")).to_contain_text(f"DELETE /inspect/faults/{rule.id} → 404")
    expect(row.get_by_role("alert")).to_contain_text(f"no fault rule {rule.id}")


def test_clear_all_asks_for_confirmation(page: Page, seeded: dict[str, Any]) -> None:
    page.goto("/")
    expect(page.locator(".stored-count")).not_to_have_text("…")
    page.get_by_role("button", name="Clear all").click()
    expect(page.locator(".confirm-text")).to_contain_text("Delete all")
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("button", name="Clear all")).to_be_visible()
    expect(page.locator("table.envelopes tbody tr").first).to_be_visible()


def test_the_header_links_to_the_inspection_api_docs(page: Page) -> None:
    page.goto("/")
    page.get_by_role("link", name="API", exact=True).click()
    expect(page).to_have_url(re.compile(r"/inspect/docs$"))
    # The page is rendered from /inspect/openapi.json: the operations the UI itself reads are listed.
    expect(page.get_by_text("/inspect/envelopes", exact=True).first).to_be_visible()
    expect(page.get_by_text("/inspect/traces/{trace_id}", exact=True).first).to_be_visible()
