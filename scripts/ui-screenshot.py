"""Screenshot relay-mock's web UI in headless Chromium (for the docs).

    scripts/py.sh scripts/ui-screenshot.py http://127.0.0.1:9000 docs/images/relay-mock-trace.png
    scripts/py.sh scripts/ui-screenshot.py URL out.png --trace-id 4bf92f3577b34da6a3ce929d0e0e4736
    scripts/py.sh scripts/ui-screenshot.py URL out.png --view envelopes

By default it opens the waterfall of the newest complete trace that spans two or more services.
CHROMIUM_PATH overrides the browser (default: Debian's /usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import sync_playwright

from relay_mock.client import RelayClient

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# What each view shows once its data has rendered.
READY = {
    "trace": ".wf-row",
    "traces": "table.traces tbody tr",
    "envelopes": "table.envelopes tbody tr",
    "errors": "table.errors tbody tr",
    "stats": ".cards",
    "faults": ".page-head",
}


def newest_multi_service_trace(base_url: str) -> str:
    with RelayClient(base_url, timeout=10) as relay:
        page = relay.traces(limit=200)
    for trace in page.traces:
        if trace.complete and len(trace.services) >= 2:
            return trace.trace_id
    raise SystemExit(f"no complete trace across two or more services in {base_url}; pass --trace-id")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url", help="relay-mock's base URL, e.g. http://127.0.0.1:9000")
    parser.add_argument("output", type=Path, help="PNG file to write")
    parser.add_argument("--view", choices=sorted(READY), default="trace")
    parser.add_argument("--trace-id", help="the trace to show (default: newest complete multi-service trace)")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--color-scheme", choices=["dark", "light"], default="dark")
    args = parser.parse_args()

    base_url = args.url.rstrip("/")
    if args.view == "trace":
        trace_id = args.trace_id or newest_multi_service_trace(base_url)
        hash_route = f"#/traces/{quote(trace_id, safe='')}"
    else:
        hash_route = f"#/{args.view}"

    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(executable).exists():
        raise SystemExit(f"no Chromium at {executable}: apt-get install -y chromium, or set CHROMIUM_PATH")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(
                viewport={"width": args.width, "height": args.height}, color_scheme=args.color_scheme
            )
            page.goto(f"{base_url}/{hash_route}")
            page.locator(READY[args.view]).first.wait_for(state="visible", timeout=15_000)
            page.wait_for_function("document.fonts.status === 'loaded'")
            page.screenshot(path=str(args.output))
        finally:
            browser.close()
    print(f"wrote {args.output} ({base_url}/{hash_route})", file=sys.stderr)


if __name__ == "__main__":
    main()
