"""`make soak`: relay-mock under a steady load for minutes, then the books must balance.

Sends at a fixed rate (default 80% of what `make bench-relay` sustains here) for DURATION
seconds from a separate process, samples relay-mock's resident memory every few seconds,
and checks at the end: every envelope the sender saw acknowledged was stored (still there, or
evicted by the retention caps and counted as such), /inspect/stats agrees with the store, and
memory stayed flat over the second half of the run (within 10%).
With --forward (`make soak FORWARD=1`): the same load with forwarding on, bench/soak_forwarding.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import brotli
import httpx

from bench import soak_forwarding
from bench.envelopes import sample_envelopes
from bench.relay import PYTHON, ROOT, TRANSACTION, _env, free_port, pinned, rss_mb, wait_ready, write_json
from relay_mock.client import RelayClient


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=300, help="seconds")
    parser.add_argument("--rate", type=float, default=1800.0, help="envelopes per second")
    parser.add_argument("--json", help="also write the result here")
    parser.add_argument(
        "--forward",
        action="store_true",
        help="with forwarding on to a second relay-mock that answers some with 429/5xx/4xx (bench/soak_forwarding.py)",
    )
    parser.add_argument("--max-age", type=float, default=5.0, help="RELAY_FORWARD_MAX_AGE with --forward (seconds)")
    args = parser.parse_args()
    if args.forward:
        soak = soak_forwarding.Soak(
            rate=args.rate, duration_s=args.duration, work=Path(tempfile.mkdtemp(prefix="soak-forward-")),
            max_age_s=args.max_age,
        )  # fmt: skip
        try:
            code = soak_forwarding.main(soak, args.json)
        finally:
            shutil.rmtree(soak.work, ignore_errors=True)
        sys.exit(code)

    work = Path(tempfile.mkdtemp(prefix="soak-"))
    synthetic, error = sample_envelopes()
    (work / "tx.br").write_bytes(brotli.compress(TRANSACTION.read_bytes(), quality=4))
    (work / "err.br").write_bytes(error.body)
    port = free_port()
    relay = subprocess.Popen(
        [*pinned(0), PYTHON, "-m", "relay_mock", "serve"],
        cwd=ROOT,
        env={**_env(), "RELAY_DATA_DIR": str(work / "data"), "RELAY_PORT": str(port), "RELAY_HOST": "127.0.0.1",
             "RELAY_LOG_LEVEL": "WARNING"},
    )  # fmt: skip
    samples: list[tuple[float, float]] = []
    stop = threading.Event()
    try:
        wait_ready(f"http://127.0.0.1:{port}/api/relay/healthcheck/ready/")
        started = time.monotonic()

        def sample() -> None:
            while not stop.wait(5):
                samples.append((round(time.monotonic() - started), round(rss_mb(relay.pid), 1)))
                print(f"\r  {samples[-1][0]:>4} s  resident {samples[-1][1]:.0f} MB", end="", file=sys.stderr)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        total = int(args.duration * args.rate)
        command = [*pinned(1), PYTHON, "-m", "bench.loadgen", "--port", str(port), "--path", "/api/1/envelope/"]
        command += ["--total", str(total), "--concurrency", "128", "--rate", str(args.rate)]
        command += ["--body", str(work / "tx.br")] * 4 + ["--body", str(work / "err.br")]
        command += [
            "--header",
            f"x-sentry-auth: {synthetic.headers['x-sentry-auth']}",
            "--header",
            "content-encoding: br",
        ]
        print(f"soak: {args.rate:.0f} envelopes/s for {args.duration} s ({total:,} envelopes)", file=sys.stderr)
        sent = json.loads(
            subprocess.run(command, cwd=ROOT, env=_env(), check=True, capture_output=True, text=True).stdout
        )
        stop.set()
        print(file=sys.stderr)
        with RelayClient(f"http://127.0.0.1:{port}", timeout=60) as inspection:
            stats = inspection.stats().model_dump()
        stored = httpx.get(f"http://127.0.0.1:{port}/api/relay/healthcheck/ready/", timeout=10).json()["envelopes"]
    finally:
        stop.set()
        relay.terminate()
        relay.wait(10)
        shutil.rmtree(work, ignore_errors=True)

    half = args.duration / 2
    early = next((rss for t, rss in samples if t >= half), samples[0][1] if samples else 0.0)
    late = samples[-1][1] if samples else 0.0
    result = {
        "rate_target": args.rate,
        "rate_achieved": sent["per_second"],
        "duration_s": sent["elapsed_s"],
        "acknowledged": sent["acknowledged"],
        "refused_or_failed": sent["answered"] - sent["acknowledged"] + sent["connection_failures"],
        "stored": stored,
        "stats_stored": stats["envelopes"]["stored"],
        "stats_received": stats["envelopes"]["received"],
        "evicted": stats["envelopes"]["evicted"],
        "p50_ms": sent["p50_ms"],
        "p99_ms": sent["p99_ms"],
        "rss_mb_at_half_time": early,
        "rss_mb_at_end": late,
        "rss_samples": samples,
    }
    books = stats["envelopes"]
    balanced = (
        books["received"] == sent["acknowledged"]
        and stored == books["stored"]
        and books["stored"] + books["evicted"] == books["received"]
    )
    flat = late <= early * 1.10
    print(
        f"sent {total:,} at {sent['per_second']:,.0f}/s: acknowledged {sent['acknowledged']:,}; relay-mock received "
        f"{books['received']:,}, holds {books['stored']:,} and evicted {books['evicted']:,} (retention caps) "
        f"-> {'balanced' if balanced else 'MISMATCH'}\n"
        f"ack latency p50 {sent['p50_ms']} ms, p99 {sent['p99_ms']} ms; resident memory {early:.0f} MB at half "
        f"time, {late:.0f} MB at the end -> {'flat' if flat else 'GROWING'}"
    )
    if args.json:
        write_json(args.json, result)
    sys.exit(0 if balanced and flat else 1)


if __name__ == "__main__":
    main()
