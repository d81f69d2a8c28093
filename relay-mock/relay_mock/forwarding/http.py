"""A small HTTP/1.1 client for the forwarder: keep-alive connections to one upstream, one request
in flight per connection, responses parsed by httptools (uvicorn's parser, already here).

httpx cost 2.5 ms of CPU per request at 16 connections on the benchmark machine, and more with
more connections: on relay-mock's one event loop that is ingest's time. This client needs a write
and a parse per request. It says whether a failed request may have reached the upstream:
`NotSent` (the connection could not be made) or `Unanswered` (sent, no complete answer)."""

from __future__ import annotations

import asyncio
import ssl
import time
from dataclasses import dataclass, field

import httptools

CONNECT_TIMEOUT_S = 5.0
ANSWER_TIMEOUT_S = 30.0
# Idle keep-alive connections older than this are closed rather than reused: servers drop idle
# connections after their own timeout (uvicorn 5 s by default, relay-mock 30 s, nginx 75 s),
# and a request written into one being dropped cannot be told from one that was lost.
IDLE_REUSE_S = 4.0
HEAD_CACHE = 256  # encoded request heads kept (each a few hundred bytes)


class NotSent(Exception):
    """Nothing reached the upstream (connection refused, unresolvable, TLS failed, timed out)."""


class Unanswered(Exception):
    """The request was written, but no complete answer came: the upstream may have it."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class _Exchange:
    waiter: asyncio.Future[Answer]
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    header_name: bytes = b""


class _Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.exchange: _Exchange | None = None
        self.closed = False
        self.timer: asyncio.TimerHandle | None = None
        self.idle_since = time.monotonic()

    # asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(Unanswered(f"unreadable answer: {exc}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(Unanswered("the connection closed before the answer was complete"))

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        if self.exchange is not None:
            self.exchange.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        if self.exchange is not None and len(self.exchange.body) < 1 << 20:  # keep the first MB at most
            self.exchange.body += body

    def on_message_complete(self) -> None:
        self._stop_timer()
        exchange, self.exchange = self.exchange, None
        if exchange is None or exchange.waiter.done():
            return
        if not self.parser.should_keep_alive():
            self.close()
        self.idle_since = time.monotonic()
        exchange.waiter.set_result(Answer(self.parser.get_status_code(), exchange.headers, bytes(exchange.body)))

    # use
    def request(self, data: bytes, timeout_s: float) -> asyncio.Future[Answer]:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Answer] = loop.create_future()
        self.exchange = _Exchange(waiter)
        # A timer, not asyncio.wait_for: that wraps every request in a task of its own, which
        # cost about a sixth of the forwarder's event-loop time per send.
        self.timer = loop.call_later(timeout_s, self._fail, Unanswered(f"no answer within {timeout_s:.0f} s"))
        self.transport.write(data)
        return waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _fail(self, error: Exception) -> None:
        self._stop_timer()
        exchange, self.exchange = self.exchange, None
        if exchange is not None and not exchange.waiter.done():
            exchange.waiter.set_exception(error)
        self.close()


class Upstream:
    """Keep-alive connections to one host; as many requests at once as the caller allows."""

    def __init__(self, scheme: str, host: str, port: int | None) -> None:
        self.host = host
        self.port = port or (443 if scheme == "https" else 80)
        self.ssl = ssl.create_default_context() if scheme == "https" else None
        default = (scheme == "https" and self.port == 443) or (scheme == "http" and self.port == 80)
        self.host_header = (f"[{host}]" if ":" in host else host) + ("" if default else f":{self.port}")
        self._idle: list[_Connection] = []
        # The request line and headers, encoded, by path and headers: envelopes from one SDK
        # share them all, so most requests only add their length.
        self._heads: dict[tuple[str, tuple[tuple[str, str], ...]], bytes] = {}

    async def post(self, path: str, headers: dict[str, str], body: bytes) -> Answer:
        conn = await self._connection()
        data = self._head(path, headers) + b"content-length: %d\r\n\r\n" % len(body) + body
        answer = await conn.request(data, ANSWER_TIMEOUT_S)  # Unanswered when it times out
        if not conn.closed:
            self._idle.append(conn)
        return answer

    def _head(self, path: str, headers: dict[str, str]) -> bytes:
        key = (path, tuple(headers.items()))
        head = self._heads.get(key)
        if head is None:
            lines = [f"POST {path} HTTP/1.1", f"host: {self.host_header}"]
            lines += [f"{name}: {_clean(value)}" for name, value in headers.items()]
            head = ("\r\n".join(lines) + "\r\n").encode("latin-1", "replace")
            if len(self._heads) >= HEAD_CACHE:
                self._heads.clear()
            self._heads[key] = head
        return head

    async def close(self) -> None:
        for conn in self._idle:
            conn.close()
        self._idle.clear()

    async def _connection(self) -> _Connection:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and now - conn.idle_since < IDLE_REUSE_S:
                return conn
            conn.close()
        loop = asyncio.get_running_loop()
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(
                    _Connection, self.host, self.port, ssl=self.ssl, server_hostname=self.host if self.ssl else None
                ),
                CONNECT_TIMEOUT_S,
            )
        except TimeoutError:
            raise NotSent(f"no connection within {CONNECT_TIMEOUT_S:.0f} s") from None
        except OSError as exc:  # refused, unreachable, unresolvable, TLS verification failed
            raise NotSent(f"{type(exc).__name__}: {exc.strerror or exc}") from None
        return conn


def _clean(value: str) -> str:
    """A header value as sent: no line breaks (they would start a header of the sender's choosing)."""
    return value.replace("\r", " ").replace("\n", " ")
