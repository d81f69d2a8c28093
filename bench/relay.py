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
from typing import Any

import brotli
import httpx

from bench.envelopes import Captured, sample_envelopes

ROOT = Path(__file__).resolve().parents[1]
TRANSACTION = ROOT / "bench" / "fixtures" / "api-transaction.envelope"
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


def write_json(path: str, data: object) -> None:
    """A benchmark's machine-readable result; reports/ does not exist in a fresh clone."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(data, indent=2))


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def load(port: int, path: str, total: int, concurrency: int, bodies: list[Path], headers: list[str]) -> dict[str, Any]:
    command = [*pinned(1), PYTHON, "-m", "bench.loadgen", "--port", str(port), "--path", path]
    command += ["--total", str(total), "--concurrency", str(concurrency)]
    for body in bodies:
        command += ["--body", str(body)]
    for header in headers:
        command += ["--header", header]
    out = subprocess.run(command, cwd=ROOT, env=_env(), check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT / 'relay-mock'}:{ROOT}"}


def store_view_caught_up(port: int, deadline_s: float = 600) -> float:
    """Seconds until relay-mock's "What Sentry stores" worker has looked at every envelope.

    It waits out bursts and then catches up in the background; the next server is loaded only
    after, so that no server's figures carry another's background work (they share core 0)."""
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        stats = httpx.get(f"http://127.0.0.1:{port}/inspect/stats", timeout=60).json()
        if not stats.get("relay", {}).get("pending_envelopes"):
            break
        time.sleep(0.5)
    return round(time.monotonic() - started, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description="relay-mock ingest benchmark")
    parser.add_argument("--total", type=int, default=100_000, help="envelopes sent to each server")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--errors-every", type=int, default=5, help="one error envelope per N envelopes")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-relay-"))
    synthetic_transaction, error = sample_envelopes()
    # The transaction is a real one: api's POST /orders as its SDK sent it (captured from the
    # stack, stored decompressed), compressed the way sentry-sdk does (brotli, quality 4).
    transaction = Captured(synthetic_transaction.headers, brotli.compress(TRANSACTION.read_bytes(), quality=4))
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

    noop_port = free_port()
    relays = {mode: free_port() for mode in ("FULL", "NORMAL")}
    servers = [
        subprocess.Popen(
            [*pinned(0), PYTHON, "-m", "relay_mock", "serve"],
            cwd=ROOT,
            env={
                **_env(),
                "RELAY_DATA_DIR": str(work / f"data-{mode}"),
                "RELAY_PORT": str(port),
                "RELAY_HOST": "127.0.0.1",
                "RELAY_LOG_LEVEL": "WARNING",
                "RELAY_SYNCHRONOUS": mode,
            },
        )
        for mode, port in relays.items()
    ]
    servers.append(
        subprocess.Popen(
            [*pinned(0), PYTHON, "-m", "bench.noop", "--port", str(noop_port)],
            cwd=ROOT,
            env=_env(),
            stderr=subprocess.DEVNULL,
        )
    )
    path = "/api/1/envelope/"
    results: dict[str, dict] = {}  # type: ignore[type-arg]
    try:
        for port in relays.values():
            wait_ready(f"http://127.0.0.1:{port}/api/relay/healthcheck/ready/")
        wait_ready(f"http://127.0.0.1:{noop_port}/")
        for port in (noop_port, *relays.values()):  # warm up every server
            load(port, path, 2000, args.concurrency, bodies, headers)
        for port in relays.values():
            httpx.delete(f"http://127.0.0.1:{port}/inspect/envelopes").raise_for_status()
        # Only one server is loaded at a time; the idle ones cost nothing.
        print("no-op ceiling ...", file=sys.stderr)
        results["ceiling"] = load(noop_port, path, args.total, args.concurrency, bodies, headers)
        for (mode, port), process in zip(relays.items(), servers, strict=False):
            print(f"relay-mock, synchronous={mode} ...", file=sys.stderr)
            rss_before = rss_mb(process.pid)
            result = load(port, path, args.total, args.concurrency, bodies, headers)
            stats = httpx.get(f"http://127.0.0.1:{port}/inspect/stats", timeout=60).json()
            result.update(
                stored=stats["envelopes"]["stored"],
                rss_mb_before=round(rss_before, 1),
                rss_mb_after=round(rss_mb(process.pid), 1),
                view_caught_up_s=store_view_caught_up(port),
            )
            results[mode] = result
    finally:
        for process in servers:
            process.terminate()
            process.wait(10)
        shutil.rmtree(work, ignore_errors=True)

    ceiling = results["ceiling"]
    full, normal = results["FULL"], results["NORMAL"]
    rows = [
        ("", "no-op ceiling", "relay FULL", "relay NORMAL"),
        *(
            (label, *(fmt(r[key]) for r in (ceiling, full, normal)))
            for label, key, fmt in (
                ("answered per second", "per_second", lambda v: f"{v:,.0f}"),
                ("p50 ack latency (ms)", "p50_ms", str),
                ("p99 ack latency (ms)", "p99_ms", str),
                ("acknowledged (2xx)", "acknowledged", lambda v: f"{v:,}"),
            )
        ),
    ]
    for row in rows:
        print(f"{row[0]:<22}" + "".join(f"{cell:>15}" for cell in row[1:]))
    for mode, result in (("FULL", full), ("NORMAL", normal)):
        ratio = result["per_second"] / ceiling["per_second"]
        result["ratio_to_ceiling"] = round(ratio, 3)
        print(
            f"relay-mock {mode}: {ratio:.0%} of the ceiling; stored {result['stored']:,} == acknowledged "
            f"{result['acknowledged']:,}: {result['stored'] == result['acknowledged']}; resident memory "
            f"{result['rss_mb_before']:.0f} MB before, {result['rss_mb_after']:.0f} MB after {args.total:,} envelopes; "
            f"Relay's view of every item caught up {result['view_caught_up_s']} s after the load"
        )
    print("targets: at least 2,000 envelopes/s, at least 60% of the ceiling, stored == acknowledged, under 150 MB")
    if args.json:
        write_json(args.json, results)


if __name__ == "__main__":
    main()
