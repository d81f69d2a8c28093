"""`make bench-relay`: relay-mock's ingest throughput next to its ceiling, in one run.

Both servers run on the same stack (uvicorn, one worker, the same options) on one core;
the load generator is a separate process on the other core. relay-mock parses, indexes
and durably stores every envelope before answering; the no-op app only reads the body.
Reports envelopes/s, acknowledgement latency, stored == acknowledged, and relay-mock's
resident memory after the run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.envelopes import sample_envelopes

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") and (os.cpu_count() or 1) > 1 else []


def wait_ready(url: str, deadline_s: float = 20) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit(f"{url} did not come up")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load(port: int, path: str, total: int, concurrency: int, bodies: list[Path], headers: list[str]) -> dict:  # type: ignore[type-arg]
    command = [*pinned(1), PYTHON, "-m", "bench.loadgen", "--port", str(port), "--path", path]
    command += ["--total", str(total), "--concurrency", str(concurrency)]
    for body in bodies:
        command += ["--body", str(body)]
    for header in headers:
        command += ["--header", header]
    out = subprocess.run(command, cwd=ROOT, env=_env(), check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT / 'relay-mock'}:{ROOT}"}


def main() -> None:
    parser = argparse.ArgumentParser(description="relay-mock ingest benchmark")
    parser.add_argument("--total", type=int, default=100_000, help="envelopes sent to each server")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--errors-every", type=int, default=5, help="one error envelope per N envelopes")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-relay-"))
    transaction, error = sample_envelopes()
    (work / "tx.br").write_bytes(transaction.body)
    (work / "err.br").write_bytes(error.body)
    bodies = [work / "tx.br"] * (args.errors_every - 1) + [work / "err.br"]
    headers = [
        f"x-sentry-auth: {transaction.headers['x-sentry-auth']}",
        "content-type: application/x-sentry-envelope",
        f"content-encoding: {transaction.headers.get('content-encoding', 'identity')}",
        f"user-agent: {transaction.headers.get('user-agent', 'bench')}",
    ]
    print(
        f"envelopes: transaction {len(transaction.body)} B sent ({transaction.headers.get('content-encoding')}), "
        f"error {len(error.body)} B sent; 1 error per {args.errors_every}; {args.total} each; "
        f"{args.concurrency} connections",
        file=sys.stderr,
    )

    relay_port, noop_port = free_port(), free_port()
    relay = subprocess.Popen(
        [*pinned(0), PYTHON, "-m", "relay_mock", "serve"],
        cwd=ROOT,
        env={
            **_env(),
            "RELAY_DATA_DIR": str(work / "data"),
            "RELAY_PORT": str(relay_port),
            "RELAY_HOST": "127.0.0.1",
            "RELAY_LOG_LEVEL": "WARNING",
        },
    )
    noop = subprocess.Popen(
        [*pinned(0), PYTHON, "-m", "bench.noop", "--port", str(noop_port)],
        cwd=ROOT,
        env=_env(),
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{relay_port}/api/relay/healthcheck/ready/")
        wait_ready(f"http://127.0.0.1:{noop_port}/")
        path = "/api/1/envelope/"
        for port in (noop_port, relay_port):  # warm up both
            load(port, path, 2000, args.concurrency, bodies, headers)
        httpx.delete(f"http://127.0.0.1:{relay_port}/inspect/envelopes").raise_for_status()
        rss_before = rss_mb(relay.pid)

        print("no-op ceiling ...", file=sys.stderr)
        ceiling = load(noop_port, path, args.total, args.concurrency, bodies, headers)
        print("relay-mock ...", file=sys.stderr)
        result = load(relay_port, path, args.total, args.concurrency, bodies, headers)
        stats = httpx.get(f"http://127.0.0.1:{relay_port}/inspect/stats", timeout=60).json()
        stored = stats["envelopes"]["stored"]
        rss_after = rss_mb(relay.pid)
    finally:
        for process in (relay, noop):
            process.terminate()
            process.wait(10)
        shutil.rmtree(work, ignore_errors=True)

    ratio = result["per_second"] / ceiling["per_second"]
    summary = {
        "ceiling": ceiling,
        "relay": result,
        "ratio_to_ceiling": round(ratio, 3),
        "stored": stored,
        "stored_equals_acknowledged": stored == result["acknowledged"],
        "rss_mb_before": round(rss_before, 1),
        "rss_mb_after": round(rss_after, 1),
    }
    rows = [
        ("", "no-op ceiling", "relay-mock"),
        ("answered per second", f"{ceiling['per_second']:,.0f}", f"{result['per_second']:,.0f}"),
        ("p50 latency (ms)", f"{ceiling['p50_ms']}", f"{result['p50_ms']}"),
        ("p99 latency (ms)", f"{ceiling['p99_ms']}", f"{result['p99_ms']}"),
        ("acknowledged (2xx)", f"{ceiling['acknowledged']:,}", f"{result['acknowledged']:,}"),
    ]
    width = max(len(r[0]) for r in rows)
    for row in rows:
        print(f"{row[0]:<{width}}  {row[1]:>14}  {row[2]:>14}")
    print(f"relay-mock / ceiling: {ratio:.0%}   (target: at least 60%, and at least 2,000 envelopes/s)")
    print(f"stored {stored:,} == acknowledged {result['acknowledged']:,}: {summary['stored_equals_acknowledged']}")
    print(f"relay-mock resident memory: {rss_before:.0f} MB before, {rss_after:.0f} MB after (target: under 150 MB)")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
