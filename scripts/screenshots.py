"""Regenerate docs/images/*.png from a running stack (`make screenshots`, after `make up`).

    scripts/py.sh scripts/screenshots.py                     # every view, into docs/images/
    scripts/py.sh scripts/screenshots.py --only trace logs   # some of them
    scripts/py.sh scripts/screenshots.py --only trace --trace-id 4bf92f3577b34da6a3ce929d0e0e4736

First it sends traffic the way the README does, orders through api (one slow, one failing, one
sold out, the rest plain), then one event from the real sentry-sdk to the playground project
carrying a card number (which Relay scrubs), a password (which the SDK scrubs) and a live-looking
API key under a name no scrubber knows (which survives: a leak). Then it opens relay-mock's UI in
headless Chromium, found the way the tests find it (tests/support/chromium.py), and writes one PNG
per view. The mixed Sentry and
OpenTelemetry trace is taken only when catalog sent spans (`make up-otel`); otherwise its image is
left as it is, and the script says so.
"""

from __future__ import annotations

import argparse
import secrets
import string
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import sentry_sdk
from playwright.sync_api import Page, sync_playwright

from relay_mock.client import RelayClient
from relay_mock.sandbox_projects import PLAYGROUND
from tests.support.chromium import CHROMIUM_ARGS, chromium_path, missing_chromium
from tests.support.polling import poll

ROOT = Path(__file__).resolve().parent.parent
ORDER = {"sku": "SKU-1", "quantity": 1}
# (X-Sandbox-Fault, body) per order: the switches of docs/settings.md, so the pages show more than one shape.
ORDERS = [
    (None, ORDER),
    ("downstream:latency=400", ORDER),
    ("downstream:error", ORDER),
    (None, {"sku": "SOLD-OUT", "quantity": 1}),
    *[(None, ORDER)] * 6,
]
CARD = "4111 1111 1111 1111"


@dataclass(frozen=True)
class Shot:
    file: str
    route: Callable[[RelayClient, Demo], str | None]  # the UI's hash route, or None: nothing to show
    ready: str  # a selector that is visible once the view's data has rendered
    top: str | None = None  # scrolled to the top of the window first (what matters is below the fold)


@dataclass(frozen=True)
class Demo:
    """What this run sent: the SDK event to open in "What Sentry stores"."""

    event_envelope: str
    trace_id: str | None


def newest_trace(relay: RelayClient, *, with_service: str | None = None) -> str | None:
    for trace in relay.traces(limit=200).traces:
        if trace.complete and len(trace.services) >= 2 and (with_service is None or with_service in trace.services):
            return trace.trace_id
    return None


SHOTS = {
    "trace": Shot(
        "relay-mock-trace.png",
        lambda relay, demo: f"#/traces/{quote(demo.trace_id or newest_trace(relay) or '', safe='')}",
        ".wf-row",
    ),
    "mixed-trace": Shot(
        "relay-mock-mixed-trace.png",
        lambda relay, demo: (t := newest_trace(relay, with_service="catalog")) and f"#/traces/{t}",
        ".wf-row",
    ),
    "envelopes": Shot("relay-mock-envelopes.png", lambda relay, demo: "#/envelopes", "table.envelopes tbody tr"),
    "logs": Shot("relay-mock-logs.png", lambda relay, demo: "#/logs", "table.logs tbody tr"),
    "metrics": Shot("relay-mock-metrics.png", lambda relay, demo: "#/metrics", ".metric-charts .metric-name"),
    "leaks": Shot("relay-mock-leaks.png", lambda relay, demo: "#/leaks", "table.leaks tbody tr"),
    "relay-view": Shot(
        "relay-mock-relay-view.png",
        lambda relay, demo: f"#/envelopes/{demo.event_envelope}?relay=event",
        "section.item .relay-view .relay-changes",
        top="section.item",
    ),
}


def send_orders(api_url: str, spread_s: float) -> None:
    """The orders, paced over `spread_s` seconds so the metrics' 10-second buckets draw a line."""
    with httpx.Client(base_url=api_url, timeout=30) as http:
        for n, (fault, body) in enumerate(ORDERS):
            if n:
                time.sleep(spread_s / (len(ORDERS) - 1))  # pacing traffic, not waiting for a result
            headers = {"x-sandbox-fault": fault} if fault else {}
            http.post("/orders", json=body, headers=headers)  # a 409 or 502 is part of the show
        http.post("/test-flush")


def send_sdk_event(relay_url: str) -> str:
    """One error event from the real SDK to the playground project; returns its envelope id."""
    marker = secrets.token_hex(8)
    key = "sk_live_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))
    netloc = httpx.URL(relay_url).netloc.decode()
    sentry_sdk.init(dsn=PLAYGROUND.dsn(netloc), default_integrations=False, release="screenshots@1.0.0")
    try:
        with sentry_sdk.new_scope() as scope:
            scope.set_tag("marker", marker)
            scope.set_extra("payment_card", CARD)  # Relay's @creditcard rule filters it
            scope.set_extra("partner_reference", key)  # no scrubber knows the name: it leaks
            scope.set_extra("password", "correct horse battery staple")  # the SDK's own scrubber filters it
            sentry_sdk.capture_message(f"checkout failed for order {marker}", level="error")
        sentry_sdk.flush(timeout=10)
    finally:
        sentry_sdk.get_client().close()

    with RelayClient(relay_url, timeout=10) as relay:

        def stored() -> str | None:
            for envelope in relay.envelopes(type="event", project=PLAYGROUND.name).envelopes:
                if any(marker in str(item.payload) for item in envelope.items):
                    return envelope.id
            return None

        envelope_id = poll(stored, deadline_s=30, what="the SDK's event in relay-mock")
        # Relay's verdict and the leak are computed in the background, after the commit.
        poll(
            lambda: any(item.envelope_id == envelope_id for item in relay.leaks(limit=500).items) or None,
            deadline_s=60,
            what="the event's leak on the Leaks page",
        )
    return envelope_id


def shoot(page: Page, base_url: str, route: str, shot: Shot, output: Path) -> None:
    page.goto(f"{base_url}/{route}")
    page.locator(shot.ready).first.wait_for(state="visible", timeout=20_000)
    if shot.top:
        page.locator(shot.top).first.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.wait_for_function("document.fonts.status === 'loaded'")
    page.wait_for_timeout(300)  # charts and the live list settle; not a wait for data (that is `ready`)
    viewport = page.viewport_size or {"width": 1280, "height": 800}
    height = viewport["height"]
    if not shot.top:  # a page shorter than the window is cut below its content: no empty band
        bottom = page.evaluate("Math.ceil(document.getElementById('main').getBoundingClientRect().bottom) + 16")
        height = min(height, int(bottom))
    page.screenshot(path=str(output), clip={"x": 0, "y": 0, "width": viewport["width"], "height": height})


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--relay-url", default="http://127.0.0.1:9000")
    parser.add_argument("--api-url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images")
    parser.add_argument("--only", nargs="+", choices=sorted(SHOTS), default=sorted(SHOTS))
    parser.add_argument("--trace-id", help="the trace for `trace` (default: newest complete multi-service trace)")
    parser.add_argument("--no-traffic", action="store_true", help="shoot what is stored; send nothing")
    parser.add_argument("--spread", type=float, default=40.0, help="seconds over which the orders are sent")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=800)
    args = parser.parse_args()

    missing = missing_chromium()
    if missing:
        print(f"screenshots: {missing}", file=sys.stderr)
        return 2
    base_url = args.relay_url.rstrip("/")
    if args.no_traffic:
        event_envelope = ""
    else:
        send_orders(args.api_url, args.spread)
        event_envelope = send_sdk_event(base_url)
    demo = Demo(event_envelope, args.trace_id)

    args.out.mkdir(parents=True, exist_ok=True)
    with RelayClient(base_url, timeout=10) as relay, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": args.width, "height": args.height}, color_scheme="dark")
            for name in args.only:
                shot = SHOTS[name]
                route = shot.route(relay, demo)
                if not route or route.endswith("/") or (name == "relay-view" and not demo.event_envelope):
                    print(f"screenshots: {name}: nothing to show, {shot.file} left as it is", file=sys.stderr)
                    continue
                shoot(page, base_url, route, shot, args.out / shot.file)
                print(f"wrote {args.out / shot.file} ({base_url}/{route})", file=sys.stderr)
        finally:
            browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
