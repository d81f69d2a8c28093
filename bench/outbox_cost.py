"""The store writer's CPU for the forwarding outbox: the same group commits of a real parsed
transaction envelope (api's POST /orders), its project forwarded or not, timed on the writer's
own thread (synchronous OFF, so the figure is CPU, not the fsync).

    PYTHONPATH=relay-mock:. python -m bench.outbox_cost
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from bench.relay import TRANSACTION
from relay_mock.protocol.envelope import parse_envelope
from relay_mock.store.database import connect
from relay_mock.store.index import index_envelope
from relay_mock.store.records import EnvelopeRecord
from relay_mock.store.writer import StoreWriter, _Pending

GROUPS = 200
GROUP_SIZE = 64
REPEATS = 7


def records(count: int) -> list[EnvelopeRecord]:
    raw = TRANSACTION.read_bytes()
    envelope = parse_envelope(raw)
    return [
        EnvelopeRecord(time.time(), 1, "api", "key", "header", "sentry.python/2", "envelope", "/api/1/envelope/",
                       "br", 1000, raw, envelope.header, index_envelope(envelope, max_event_bytes=10**7))
        for _ in range(count)
    ]  # fmt: skip


def writer_us_per_envelope(forwarded: frozenset[int]) -> float:
    path = Path(tempfile.mkdtemp(prefix="outbox-cost-")) / "relay.sqlite3"
    writer = StoreWriter(
        path, retention_max_envelopes=10**9, retention_max_bytes=1 << 40, synchronous="OFF", forwarded=forwarded
    )
    conn = connect(path, synchronous="OFF")
    groups = [[_Pending(record, None) for record in records(GROUP_SIZE)] for _ in range(GROUPS)]
    started = time.thread_time()
    for group in groups:
        writer._write(conn, group)
    used = time.thread_time() - started
    conn.close()
    return used / (GROUPS * GROUP_SIZE) * 1e6


def main() -> None:
    """Taking turns, REPEATS times each; the medians (another process's work moves single runs)."""
    off, on = [], []
    for _ in range(REPEATS):
        off.append(writer_us_per_envelope(frozenset()))
        on.append(writer_us_per_envelope(frozenset({1})))
    off_us, on_us = statistics.median(off), statistics.median(on)
    print(
        f"store writer CPU per envelope, groups of {GROUP_SIZE}, median of {REPEATS}: not forwarded "
        f"{off_us:.1f} us, forwarded {on_us:.1f} us (+{on_us - off_us:.1f} us for the outbox row and its counter)"
    )
    print(f"runs: not forwarded {[round(v, 1) for v in off]}, forwarded {[round(v, 1) for v in on]}")


if __name__ == "__main__":
    main()
