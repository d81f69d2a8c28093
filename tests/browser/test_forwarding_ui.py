"""The Forwarding page (RELAY_FORWARD) in a real Chromium, over a real forwarding: a relay-mock
forwards three projects; one upstream is a second relay-mock that takes `api`'s envelopes and
refuses `downstream`'s (its own fault rule answers 403 for that project), the third upstream is a
port nothing listens on. The page shows each project's pending, sent, rejected and expired counts,
its last error, and its upstream with the key masked: no key's text is anywhere in the page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from playwright.sync_api import Locator, Page, expect

from relay_mock.client import RelayClient
from relay_mock.models import Forwarding
from tests.relay_http.wire import API, DOWNSTREAM, PLAYGROUND, Project, send_event
from tests.support.polling import poll
from tests.support.relay_server import RelayMock, free_port

expect.set_options(timeout=10_000)

# The upstream's own projects and keys (not the sandbox's), and a key for an upstream that is down.
TAKES_KEY = "0123456789abcdef0123456789abcdef"
REFUSES_KEY = "fedcba9876543210fedcba9876543210"
DOWN_KEY = "00112233445566778899aabbccddeeff"
TAKES_PROJECT, REFUSES_PROJECT = 42, 43
SENT = {API: 3, DOWNSTREAM: 2, PLAYGROUND: 2}  # envelopes acknowledged per local project


@pytest.fixture
def forwarding_relay(tmp_path: Path) -> Iterator[tuple[RelayMock, dict[Project, str]]]:
    """The forwarding relay-mock, every envelope of SENT acknowledged and each settled as it
    will stay (sent, rejected, or pending against the upstream that is down); and the upstream
    DSN of each project, keys in clear."""
    (tmp_path / "upstream").mkdir()
    (tmp_path / "local").mkdir()
    upstream = RelayMock(
        tmp_path / "upstream",
        env={
            "RELAY_PROJECT_TAKES": f"http://{TAKES_KEY}@127.0.0.1/{TAKES_PROJECT}",
            "RELAY_PROJECT_REFUSES": f"http://{REFUSES_KEY}@127.0.0.1/{REFUSES_PROJECT}",
        },
    )
    local: RelayMock | None = None
    try:
        upstream.start()
        with RelayClient(upstream.url) as client:
            client.add_fault(action="status", status=403, project=REFUSES_PROJECT)
        host = f"127.0.0.1:{upstream.port}"
        dsns = {
            API: f"http://{TAKES_KEY}@{host}/{TAKES_PROJECT}",
            DOWNSTREAM: f"http://{REFUSES_KEY}@{host}/{REFUSES_PROJECT}",
            PLAYGROUND: f"http://{DOWN_KEY}@127.0.0.1:{free_port()}/7",  # nothing listens there
        }
        forward = orjson.dumps({project.name: dsn for project, dsn in dsns.items()}).decode()
        local = RelayMock(tmp_path / "local", env={"RELAY_FORWARD": forward})
        local.start()
        with httpx.Client(timeout=30) as http:
            for project, n in SENT.items():
                for i in range(n):
                    send_event(http, local.url, project=project, logentry={"message": f"{project.name} {i}"})

        def settled() -> Forwarding | None:
            with RelayClient(local.url) as client:
                answer = client.forwarding()
            by_id = {p.project.id: p for p in answer.projects}
            done = (
                by_id[API.id].sent == SENT[API]
                and by_id[DOWNSTREAM.id].rejected == SENT[DOWNSTREAM]
                and by_id[PLAYGROUND.id].last_error is not None
            )
            return answer if done else None

        poll(settled, deadline_s=30, what="api sent, downstream rejected, playground failing")
        yield local, dsns
    finally:
        for server in (local, upstream):
            if server is not None:
                server.stop()


def _panel(page: Page, project: Project) -> Locator:
    return page.locator("section.panel").filter(has=page.locator("h2", has_text=project.name))


def _row(panel: Locator, label: str) -> Locator:
    header = panel.page.get_by_role("rowheader", name=label, exact=True)
    return panel.locator("table.kv tr").filter(has=header).locator("td")


def test_the_forwarding_page_shows_each_projects_outcomes_and_never_the_key(
    forwarding_relay: tuple[RelayMock, dict[Project, str]], page: Page
) -> None:
    local, dsns = forwarding_relay
    page.goto(f"{local.url}/#/forwarding")
    expect(page.locator("h1")).to_have_text("Forwarding")

    # (project, pending, sent, rejected); nothing expires within the default RELAY_FORWARD_MAX_AGE
    for project, pending, sent, rejected in (
        (API, 0, 3, 0),
        (DOWNSTREAM, 0, 0, 2),
        (PLAYGROUND, 2, 0, 0),
    ):
        panel = _panel(page, project)
        expect(panel).to_have_count(1)
        expect(_row(panel, "acknowledged")).to_have_text(str(SENT[project]))
        expect(_row(panel, "pending")).to_have_text(str(pending))
        expect(_row(panel, "sent")).to_have_text(str(sent))
        expect(_row(panel, "rejected")).to_have_text(str(rejected))
        expect(_row(panel, "expired")).to_have_text("0")
        # The upstream, its key masked: the host and project are there, the key is not.
        upstream = panel.locator("h2 code")
        upstream_dsn = dsns[project]
        expect(upstream).to_contain_text(upstream_dsn.rsplit("@", 1)[1])

    api = _panel(page, API)
    expect(_row(api, "upstream statuses")).to_have_text("200: 3")
    expect(_row(api, "last error")).to_have_count(0)

    downstream = _panel(page, DOWNSTREAM)
    expect(_row(downstream, "upstream statuses")).to_have_text("403: 2")
    expect(_row(downstream, "last error")).to_contain_text("403")
    # The count links to the rejected envelopes of the project, which the list then shows.
    _row(downstream, "rejected").get_by_role("link").click()
    expect(page).to_have_url(f"{local.url}/#/envelopes?project={DOWNSTREAM.id}&forward=rejected")
    expect(page.locator("table.envelopes tbody tr")).to_have_count(SENT[DOWNSTREAM])
    page.go_back()

    playground = _panel(page, PLAYGROUND)
    expect(_row(playground, "last error")).to_contain_text("cannot reach")
    expect(_row(playground, "oldest pending")).to_contain_text(" s")

    html = page.content()
    for key in (TAKES_KEY, REFUSES_KEY, DOWN_KEY):
        assert key not in html
    # Nor in the JSON the page read, for good measure.
    with RelayClient(local.url) as client:
        answer = client.forwarding().model_dump_json()
    assert not any(key in answer for key in (TAKES_KEY, REFUSES_KEY, DOWN_KEY))
