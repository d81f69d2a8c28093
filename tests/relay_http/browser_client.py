"""The real @sentry/browser SDK in headless Chromium as a client of relay-mock, in a process of
its own (Playwright's sync API allows one instance per process). Serves a tiny page on a port of
its own, so every request to relay-mock is cross-origin, as from a real site; the page captures
a message and flushes. Prints the result as one JSON line.

    python -m tests.relay_http.browser_client BUNDLE DSN MESSAGE [--header NAME:VALUE]...

The SDK's fetch goes through a recording wrapper (its documented `makeFetchTransport(options,
fetch)` hook), so the result shows what the browser let the SDK see: a status and the rate
limit header, or the TypeError of a request that CORS blocked.
"""

from __future__ import annotations

import argparse
import json
import threading
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

from tests.support.chromium import CHROMIUM_ARGS, chromium_path

PAGE = rb"""<!doctype html>
<html><head><title>shop</title><script src="/sentry.bundle.min.js"></script></head>
<body>
<script>
  window.sent = [];
  function recordingFetch(url, init) {
    // The browser SDK sends envelopes uncompressed: the second line is the first item's header.
    const item = JSON.parse(String(init.body).split("\n")[1]).type;
    return fetch(url, init).then(
      (response) => {
        const rateLimits = response.headers.get("X-Sentry-Rate-Limits");
        window.sent.push({ url, item, status: response.status, rateLimits });
        return response;
      },
      (error) => {
        window.sent.push({ url, item, error: String(error) });
        throw error;
      },
    );
  }
  window.captureMessage = async (dsn, message, headers) => {
    Sentry.init({
      dsn,
      release: "web@1.0.0",
      environment: "sandbox",
      transport: (options) => Sentry.makeFetchTransport(options, recordingFetch),
      transportOptions: { headers },
    });
    const eventId = Sentry.captureMessage(message);
    const flushed = await Sentry.flush(10000);
    return { eventId, flushed, sent: window.sent };
  };
</script>
</body></html>
"""


class PageHandler(BaseHTTPRequestHandler):
    def __init__(self, bundle: bytes, *args: Any) -> None:
        self.bundle = bundle
        super().__init__(*args)

    def do_GET(self) -> None:
        if self.path == "/":
            self._answer(PAGE, "text/html")
        elif self.path == "/sentry.bundle.min.js":
            self._answer(self.bundle, "text/javascript")
        else:
            self.send_error(404)

    def _answer(self, body: bytes, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("dsn")
    parser.add_argument("message")
    parser.add_argument("--header", action="append", default=[], help="a transport header, NAME:VALUE")
    args = parser.parse_args()
    headers = dict(header.split(":", 1) for header in args.header)
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(PageHandler, args.bundle.read_bytes()))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    console: list[str] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.on("console", lambda message: console.append(message.text))
            page.goto(f"http://127.0.0.1:{server.server_port}/")
            result = page.evaluate(
                "([dsn, message, headers]) => captureMessage(dsn, message, headers)",
                [args.dsn, args.message, headers],
            )
            browser.close()
    finally:
        server.shutdown()
    print(json.dumps({**result, "page_origin": f"http://127.0.0.1:{server.server_port}", "console": console}))


if __name__ == "__main__":
    main()
