"""A small, fast HTTP/1.1 load generator for one endpoint (run as its own process).

It keeps `concurrency` keep-alive connections busy, one request in flight per
connection, until `total` requests were answered, then prints one JSON line: counts,
elapsed time and latency percentiles. Every request it counts as acknowledged got a 2xx,
so the count can be compared with what the server stored.

    python -m bench.loadgen --port 9100 --path /api/1/envelope/ --total 100000 \
        --body tx.br --body err.br --header 'content-encoding: br' ...
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time

try:
    import uvloop
except ImportError:  # pragma: no cover - uvloop ships with uvicorn[standard]
    uvloop = None  # type: ignore[assignment]


class Connection(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.transport: asyncio.Transport | None = None
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport subclass

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._try_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))
        if not self.closed.done():
            self.closed.set_result(None)

    def _try_complete(self) -> None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None or self.waiter.done():
            return
        head = bytes(self.buffer[:end]).decode("latin-1")
        length, chunked = 0, False
        for line in head.split("\r\n")[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if chunked:
            # Node servers (Spotlight) answer chunked: the body ends with a zero-size chunk.
            body_end = _chunked_end(self.buffer, end + 4)
            if body_end < 0:
                return
        else:
            body_end = end + 4 + length
            if len(self.buffer) < body_end:
                return
        del self.buffer[:body_end]
        self.waiter.set_result(int(head.split(" ", 2)[1]))

    async def request(self, data: bytes) -> int:
        assert self.transport is not None
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self.waiter


def _chunked_end(buffer: bytearray, start: int) -> int:
    """Where a chunked body that begins at `start` ends, or -1 while it is incomplete."""
    position = start
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return -1
        size = int(bytes(buffer[position:line_end]).split(b";", 1)[0], 16)
        if size == 0:
            trailer_end = buffer.find(b"\r\n\r\n", line_end)  # no trailers: the CRLF right after
            return -1 if trailer_end < 0 else trailer_end + 4
        position = line_end + 2 + size + 2
        if position > len(buffer):
            return -1


async def run(args: argparse.Namespace) -> dict[str, object]:
    bodies = [open(path, "rb").read() for path in args.body] or [b""]  # noqa: ASYNC230
    headers = "".join(f"{h.strip()}\r\n" for h in args.header)
    requests = [
        (
            f"{args.method} {args.path} HTTP/1.1\r\nhost: {args.host}:{args.port}\r\n{headers}"
            f"content-length: {len(body)}\r\n\r\n"
        ).encode()
        + body
        for body in bodies
    ]
    order = itertools.cycle(requests)
    loop = asyncio.get_running_loop()
    remaining = args.total
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    failures = 0

    sent = 0
    t0 = time.perf_counter()

    async def worker() -> None:
        nonlocal remaining, failures, sent
        _, conn = await loop.create_connection(Connection, args.host, args.port)
        try:
            while remaining > 0:
                remaining -= 1
                if args.rate:  # open loop: request n leaves at t0 + n / rate, whatever the answers do
                    slot = t0 + sent / args.rate
                    sent += 1
                    delay = slot - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                started = time.perf_counter()
                try:
                    status = await conn.request(next(order))
                except ConnectionError:
                    failures += 1
                    _, conn = await loop.create_connection(Connection, args.host, args.port)
                    continue
                latencies.append(time.perf_counter() - started)
                statuses[status] = statuses.get(status, 0) + 1
        finally:
            if conn.transport is not None:
                conn.transport.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(args.concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()

    def pct(p: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000, 3) if latencies else 0.0

    acked = sum(n for status, n in statuses.items() if 200 <= status < 300)
    return {
        "answered": len(latencies),
        "acknowledged": acked,
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "connection_failures": failures,
        "elapsed_s": round(elapsed, 3),
        "per_second": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--method", default="POST")
    parser.add_argument("--total", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rate", type=float, default=0.0, help="requests per second (0: as fast as answered)")
    parser.add_argument("--body", action="append", default=[], help="a request body file (repeat to rotate)")
    parser.add_argument("--header", action="append", default=[], help="'name: value' (repeatable)")
    args = parser.parse_args()
    if uvloop is not None:
        uvloop.install()
    result = asyncio.run(run(args))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
