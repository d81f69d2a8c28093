"""How relay-mock's HTTP server runs: one uvicorn worker with deliberate limits.

Shared with the benchmark's no-op ceiling, so both are measured on the same stack.
"""

from __future__ import annotations

from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

MAX_HEADER_BYTES = 64 * 1024


class BoundedHeadersProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a cap on the request line and headers.

    httptools accepts headers of any size, so a client could make the server buffer
    megabytes before the application sees anything. Past the cap the request is refused
    with 431 and a JSON body, and the connection closed.
    """

    max_header_bytes = MAX_HEADER_BYTES

    def on_message_begin(self) -> None:
        self._header_bytes = 0
        self._headers_done = False
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._headers_done = True
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if getattr(self, "_headers_done", True) or self.transport.is_closing():
            return
        self._header_bytes += len(data)
        if self._header_bytes > self.max_header_bytes:
            body = orjson.dumps(
                {
                    "detail": "request headers too large",
                    "causes": [f"more than {self.max_header_bytes} bytes before the end of the headers"],
                }
            )
            self.transport.write(
                b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-type: application/json\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body)
            )
            self.transport.close()


UVICORN_OPTIONS: dict[str, Any] = {
    "log_config": None,
    "access_log": False,
    "server_header": False,
    "loop": "uvloop",
    "http": BoundedHeadersProtocol,
    # Deliberate limits (docs/resilience.md): header sizes above, bounded concurrency,
    # idle keep-alives dropped, so floods and slow clients cannot exhaust the process.
    "limit_concurrency": 2000,
    "backlog": 4096,
    "timeout_keep_alive": 30,
    # Live streams never end by themselves: on shutdown give them this long, then close them.
    "timeout_graceful_shutdown": 3,
}
