"""`make bench-relay`: relay-mock's ingest throughput next to its ceiling, in one run.

Both servers run on the same stack (uvicorn, one worker, the same options) on one core;
the load generator is a separate process on the other core. relay-mock parses, indexes
and durably stores every envelope before answering; the no-op app only reads the body.
Spotlight's sidecar, the closest peer, runs in the same run on the same envelopes and load
generator (installed from npm into a cache folder on first use; `--no-spotlight` leaves it out).
Reports envelopes/s, acknowledgement latency under load, the latency one sender sees (one
connection, one envelope after another, as an SDK's transport sends) next to the same server's
cheapest route, stored == acknowledged, and resident memory after the run.
On relay-mock (FULL), OTLP/HTTP ingest of the same spans as the transaction envelope, side by
side with envelopes of that transaction alone: spans/s under load and one sender's latency.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brotli
import httpx

from bench import forwarding, spotlight
from bench.envelopes import Captured, sample_envelopes
from bench.otlp import batch_of_traces, transaction_as_otlp
from relay_mock.client import RelayClient

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


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds used so far by each thread of a process, by thread name (the kernel's
    accounting in /proc/<pid>/task/*/stat): relay-mock's event loop is the process's main thread,
    its store writer the thread named relay-store-writer (cut to 15 characters)."""
    ticks = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        label = "event loop" if task.name == str(pid) else name
        used[label] = used.get(label, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return used


def load(
    port: int,
    path: str,
    total: int,
    concurrency: int,
    bodies: list[Path],
    headers: list[str],
    method: str = "POST",
) -> dict[str, Any]:
    command = [*pinned(1), PYTHON, "-m", "bench.loadgen", "--port", str(port), "--path", path, "--method", method]
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


@dataclass
class Server:
    """One server under test: how to start it, where it ingests, and its cheapest route."""

    label: str
    command: list[str]
    port: int
    env: dict[str, str] = field(default_factory=dict)
    cheapest_route: str = "/"
    ready_route: str = "/"
    stats: bool = False  # relay-mock: compare what it stored with what it acknowledged
    total: int = 0
    process: subprocess.Popen[bytes] | None = None
    core: int = 0

    def start(self) -> None:
        self.process = subprocess.Popen(
            [*pinned(self.core), *self.command],
            cwd=ROOT,
            env={**_env(), **self.env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_ready(f"http://127.0.0.1:{self.port}{self.ready_route}", deadline_s=60)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)


def store_view_caught_up(port: int, deadline_s: float = 600) -> float:
    """Seconds until relay-mock's "What Sentry stores" worker has looked at every envelope.

    It waits out bursts and then catches up in the background; the next server is loaded only
    after, so that no server's figures carry another's background work (they share core 0)."""
    started = time.monotonic()
    with RelayClient(f"http://127.0.0.1:{port}", timeout=60) as relay:
        while time.monotonic() - started < deadline_s:
            view = relay.stats().relay
            if view is None or not view.pending_envelopes:
                break
            time.sleep(0.5)
    return round(time.monotonic() - started, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description="relay-mock ingest benchmark")
    parser.add_argument("--total", type=int, default=100_000, help="envelopes sent to relay-mock and the ceiling")
    parser.add_argument("--peer-total", type=int, default=10_000, help="envelopes sent to Spotlight (slower)")
    parser.add_argument("--sequential", type=int, default=2_000, help="envelopes one after another, one sender")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--errors-every", type=int, default=5, help="one error envelope per N envelopes")
    parser.add_argument("--no-spotlight", action="store_true", help="leave Spotlight out")
    parser.add_argument(
        "--stack-port",
        type=int,
        help="also time one sender against a relay-mock already running on this port (make up's: 9000)",
    )
    parser.add_argument("--otlp-total", type=int, help="requests of each kind in the OTLP comparison (default TOTAL/5)")
    parser.add_argument("--json", help="also write the results here")
    # Forwarding to a real Sentry (bench/forwarding.py): its own phase, after the others.
    parser.add_argument("--no-forwarding", action="store_true", help="leave the forwarding phase out")
    parser.add_argument("--forward-total", type=int, default=30_000, help="envelopes per forwarding run")
    parser.add_argument("--forwarding-only", action="store_true", help="only the forwarding phase")
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
        f"error {len(error.body)} B sent; 1 error per {args.errors_every}; {args.concurrency} connections",
        file=sys.stderr,
    )

    if args.forwarding_only:
        try:
            forwarded = forwarding.run(
                work=work, total=args.forward_total, sequential=args.sequential, concurrency=args.concurrency,
                bodies=bodies, headers=headers, load=load, server=Server, free_port=free_port,
            )  # fmt: skip
        finally:
            shutil.rmtree(work, ignore_errors=True)
        forwarding.report(forwarded)
        if args.json:
            write_json(args.json, {"forwarding": forwarded})
        return

    servers = [Server("no-op ceiling", [PYTHON, "-m", "bench.noop", "--port", "{port}"], free_port(), total=args.total)]
    for mode in ("FULL", "NORMAL"):
        port = free_port()
        servers.append(
            Server(
                f"relay {mode}",
                [PYTHON, "-m", "relay_mock", "serve"],
                port,
                env={
                    "RELAY_DATA_DIR": str(work / f"data-{mode}"),
                    "RELAY_PORT": str(port),
                    "RELAY_HOST": "127.0.0.1",
                    "RELAY_LOG_LEVEL": "WARNING",
                    "RELAY_SYNCHRONOUS": mode,
                },
                cheapest_route="/api/relay/healthcheck/live/",
                ready_route="/api/relay/healthcheck/ready/",
                stats=True,
                total=args.total,
            )
        )
    if not args.no_spotlight and spotlight.install() is not None:
        port = free_port()
        servers.append(
            Server("Spotlight", spotlight.command(port), port, cheapest_route="/health", ready_route="/health",
                   total=args.peer_total)
        )  # fmt: skip
    for server in servers:
        server.command = [part.replace("{port}", str(server.port)) for part in server.command]

    path = "/api/1/envelope/"
    results: dict[str, dict[str, Any]] = {}
    try:
        for server in servers:
            server.start()
            load(server.port, path, 2000, args.concurrency, bodies, headers)  # warm up
            if server.stats:
                with RelayClient(f"http://127.0.0.1:{server.port}") as relay:
                    relay.clear()
        # Only one server is loaded at a time; the idle ones cost nothing.
        for server in servers:
            assert server.process is not None
            print(f"{server.label}: {server.total:,} envelopes, {args.concurrency} connections ...", file=sys.stderr)
            rss_before = rss_mb(server.process.pid)
            cpu_before = thread_cpu(server.process.pid)
            result = load(server.port, path, server.total, args.concurrency, bodies, headers)
            cpu_after = thread_cpu(server.process.pid)
            result["cpu_us_per_envelope"] = {
                thread: round((cpu_after[thread] - cpu_before.get(thread, 0.0)) * 1e6 / max(1, result["answered"]))
                for thread in cpu_after
                if cpu_after[thread] - cpu_before.get(thread, 0.0) > 0
            }
            result["rss_mb_before"] = round(rss_before, 1)
            result["rss_mb_after"] = round(rss_mb(server.process.pid), 1)
            if server.stats:
                with RelayClient(f"http://127.0.0.1:{server.port}", timeout=60) as relay:
                    result["stored"] = relay.stats().envelopes.stored
                # Its "What Sentry stores" worker waits out the burst, then catches up on this
                # core: the one-sender figures and the next server wait until it is done.
                result["view_caught_up_s"] = store_view_caught_up(server.port)
            # An SDK's transport sends one envelope at a time on one connection: what it waits
            # for each acknowledgement, next to the same server's cheapest answer.
            print(f"{server.label}: {args.sequential:,} envelopes one after another ...", file=sys.stderr)
            sequential = load(server.port, path, args.sequential, 1, bodies, headers)
            route = load(server.port, server.cheapest_route, args.sequential, 1, [], [], method="GET")
            result["sequential_p50_ms"] = sequential["p50_ms"]
            result["sequential_p99_ms"] = sequential["p99_ms"]
            result["route_p50_ms"] = route["p50_ms"]
            result["sequential_to_route"] = round(sequential["p50_ms"] / route["p50_ms"], 2) if route["p50_ms"] else 0
            if server.label == "relay FULL":
                otlp_total = args.otlp_total or max(1000, args.total // 5)
                result["otlp"] = compare_otlp(
                    server.port, server.process.pid, work, otlp_total, args.concurrency, args.sequential, headers
                )
            results[server.label] = result
        forwarded = (
            {}
            if args.no_forwarding
            else forwarding.run(
                work=work,
                total=args.forward_total,
                sequential=args.sequential,
                concurrency=args.concurrency,
                bodies=bodies,
                headers=headers,
                load=load,
                server=Server,
                free_port=free_port,
            )
        )
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)

    if args.stack_port:
        # In the compose stack every answer also crosses Docker's port forwarding.
        sequential = load(args.stack_port, path, args.sequential, 1, bodies, headers)
        route = load(args.stack_port, "/api/relay/healthcheck/live/", args.sequential, 1, [], [], method="GET")
        results["compose stack"] = {
            "sequential_p50_ms": sequential["p50_ms"],
            "sequential_p99_ms": sequential["p99_ms"],
            "route_p50_ms": route["p50_ms"],
            "sequential_to_route": round(sequential["p50_ms"] / route["p50_ms"], 2) if route["p50_ms"] else 0,
        }
        print(
            f"compose stack (port {args.stack_port}): one sender p50 {sequential['p50_ms']} ms, p99 "
            f"{sequential['p99_ms']} ms; cheapest route p50 {route['p50_ms']} ms: "
            f"{results['compose stack']['sequential_to_route']:.2f}x",
            file=sys.stderr,
        )
    report({k: v for k, v in results.items() if k != "compose stack"}, args.total)
    report_otlp(results["relay FULL"]["otlp"])
    if "compose stack" in results:
        stack = results["compose stack"]
        print(
            f"compose stack: one sender p50 {stack['sequential_p50_ms']} ms / cheapest route "
            f"{stack['route_p50_ms']} ms = {stack['sequential_to_route']:.2f}x"
        )
    if forwarded:
        forwarding.report(forwarded)
        results["forwarding"] = forwarded
    if args.json:
        write_json(args.json, results)


OTLP_PATH = "/api/1/integration/otlp/v1/traces/"


OTLP_KINDS = ("envelope", "otlp", "otlp batch")
ROUNDS = 3  # each kind's load in rounds, taking turns: a busy machine weighs on all of them alike
BATCH_SENDERS = 8
BATCHES_PER_ROUND = 40


def compare_otlp(
    port: int, pid: int, work: Path, total: int, concurrency: int, sequential: int, envelope_headers: list[str]
) -> dict[str, Any]:
    """The same spans three ways, under load and from one sender: envelopes of the transaction
    alone (as sentry-sdk sends one per transaction), OTLP protobuf requests of one trace each, and
    OTLP requests of a full SDK batch of traces (as the OpenTelemetry SDK's BatchSpanProcessor
    exports under load); OTLP uncompressed, as that exporter sends by default."""
    body, spans = transaction_as_otlp(TRANSACTION.read_bytes())
    batch, traces, batch_spans = batch_of_traces(body)
    (work / "tx.otlp").write_bytes(body)
    (work / "batch.otlp").write_bytes(batch)
    auth = next(header for header in envelope_headers if header.startswith("x-sentry-auth"))
    otlp_headers = [auth, "content-type: application/x-protobuf", "user-agent: OTel-OTLP-Exporter-Python/1.45.2"]
    # (path, bodies, headers, spans per request, requests, connections). An SDK's batch processor
    # exports one batch at a time: the batches come from BATCH_SENDERS services at once.
    batches = max(ROUNDS * BATCHES_PER_ROUND, total // traces)
    kinds = {
        "envelope": ("/api/1/envelope/", [work / "tx.br"], envelope_headers, spans, total, concurrency),
        "otlp": (OTLP_PATH, [work / "tx.otlp"], otlp_headers, spans, total, concurrency),
        "otlp batch": (OTLP_PATH, [work / "batch.otlp"], otlp_headers, batch_spans, batches, BATCH_SENDERS),
    }
    found: dict[str, Any] = {"spans_per_request": spans, "batch_spans": batch_spans, "requests": total}
    runs: dict[str, list[dict[str, Any]]] = {kind: [] for kind in kinds}
    stored = dict.fromkeys(kinds, 0)
    cpu: dict[str, dict[str, float]] = {kind: {} for kind in kinds}  # CPU seconds by thread
    with RelayClient(f"http://127.0.0.1:{port}", timeout=60) as relay:
        for path, bodies, headers, _, _, connections in kinds.values():
            load(port, path, 20, connections, bodies, headers)  # warm up each route
        for turn in range(ROUNDS):
            for kind, (path, bodies, headers, _, requests, connections) in kinds.items():
                print(f"relay FULL: {kind}, round {turn + 1} of {ROUNDS} ...", file=sys.stderr)
                before = relay.stats().envelopes.stored
                cpu_before = thread_cpu(pid)
                runs[kind].append(load(port, path, requests // ROUNDS, connections, bodies, headers))
                for thread, used in thread_cpu(pid).items():
                    cpu[kind][thread] = cpu[kind].get(thread, 0.0) + used - cpu_before.get(thread, 0.0)
                stored[kind] += relay.stats().envelopes.stored - before
                # "What Sentry stores" catches up on the transactions after each burst: not
                # during the next kind's turn (OTLP spans give it nothing to do).
                store_view_caught_up(port)
        for kind, (path, bodies, headers, per_request, _, _) in kinds.items():
            answered = sum(run["answered"] for run in runs[kind])
            elapsed = sum(run["elapsed_s"] for run in runs[kind])
            found[kind] = {
                "requests": answered,
                "per_second": round(answered / elapsed, 1),
                "spans_per_second": round(answered * per_request / elapsed),
                "p50_ms": sorted(run["p50_ms"] for run in runs[kind])[len(runs[kind]) // 2],  # the median round's
                "p99_ms": max(run["p99_ms"] for run in runs[kind]),
                "acknowledged": sum(run["acknowledged"] for run in runs[kind]),
                "stored": stored[kind],
                "cpu_us_per_span": {
                    thread: round(used * 1e6 / (answered * per_request), 1)
                    for thread, used in cpu[kind].items()
                    if used > 0.01
                },
            }
            if kind != "otlp batch":
                store_view_caught_up(port)
                one = load(port, path, sequential, 1, bodies, headers)
                found[kind] |= {"sequential_p50_ms": one["p50_ms"], "sequential_p99_ms": one["p99_ms"]}
    envelope = found["envelope"]
    found["spans_ratio"] = round(found["otlp"]["spans_per_second"] / envelope["spans_per_second"], 2)
    found["batch_spans_ratio"] = round(found["otlp batch"]["spans_per_second"] / envelope["spans_per_second"], 2)
    found["sequential_ratio"] = round(found["otlp"]["sequential_p50_ms"] / envelope["sequential_p50_ms"], 2)
    return found


def report_otlp(found: dict[str, Any]) -> None:
    print(
        f"OTLP vs envelopes on relay-mock FULL, the same spans: {found['spans_per_request']} per envelope or "
        f"OTLP request of one trace, {found['batch_spans']} per OTLP batch ({BATCH_SENDERS} senders)"
    )
    print(f"{'':<26}" + "".join(f"{label:>16}" for label in ("envelope (br)", "OTLP 1 trace", "OTLP batch")))
    for label, key, fmt in (
        ("requests", "requests", lambda v: f"{v:,}"),
        ("requests per second", "per_second", lambda v: f"{v:,.0f}"),
        ("spans per second", "spans_per_second", lambda v: f"{v:,.0f}"),
        ("p50 ack latency (ms)", "p50_ms", str),
        ("p99 ack latency (ms)", "p99_ms", str),
        ("one sender: p50 (ms)", "sequential_p50_ms", str),
        ("one sender: p99 (ms)", "sequential_p99_ms", str),
        ("stored == acknowledged", "stored", None),
    ):
        cells = [
            str(found[kind]["stored"] == found[kind]["acknowledged"]) if fmt is None
            else fmt(found[kind][key]) if key in found[kind] else "-"
            for kind in OTLP_KINDS
        ]  # fmt: skip
        print(f"{label:<26}" + "".join(f"{cell:>16}" for cell in cells))
    print(
        f"OTLP spans/s = {found['spans_ratio']:.2f}x envelope's one trace a request, "
        f"{found['batch_spans_ratio']:.2f}x in SDK batches (target at least 1x); "
        f"one sender's p50 = {found['sequential_ratio']:.2f}x envelope's (target at most 1.5x)"
    )
    for kind in OTLP_KINDS:
        threads = ", ".join(f"{thread} {us} µs" for thread, us in found[kind]["cpu_us_per_span"].items())
        print(f"CPU per span under load, {kind}: {threads}")


def report(results: dict[str, dict[str, Any]], total: int) -> None:
    labels = list(results)
    rows: list[tuple[str, ...]] = [
        ("", *labels),
        *(
            (label, *(fmt(results[server][key]) for server in labels))
            for label, key, fmt in (
                ("envelopes sent", "answered", lambda v: f"{v:,}"),
                ("acknowledged (2xx)", "acknowledged", lambda v: f"{v:,}"),
                ("failed connections", "connection_failures", lambda v: f"{v:,}"),
                ("answered per second", "per_second", lambda v: f"{v:,.0f}"),
                ("p50 ack latency (ms)", "p50_ms", str),
                ("p99 ack latency (ms)", "p99_ms", str),
                ("one sender: p50 (ms)", "sequential_p50_ms", str),
                ("one sender: p99 (ms)", "sequential_p99_ms", str),
                ("cheapest route p50 (ms)", "route_p50_ms", str),
                ("one sender / route", "sequential_to_route", lambda v: f"{v:.2f}x"),
                ("resident memory (MB)", "rss_mb_after", lambda v: f"{v:.0f}"),
            )
        ),
    ]
    for row in rows:
        print(f"{row[0]:<26}" + "".join(f"{cell:>16}" for cell in row[1:]))
    ceiling = results["no-op ceiling"]["per_second"]
    for mode in ("FULL", "NORMAL"):
        result = results[f"relay {mode}"]
        result["ratio_to_ceiling"] = round(result["per_second"] / ceiling, 3)
        line = (
            f"relay-mock {mode}: {result['per_second']:,.0f}/s, {result['ratio_to_ceiling']:.0%} of the ceiling; "
            f"stored {result['stored']:,} == acknowledged {result['acknowledged']:,}: "
            f"{result['stored'] == result['acknowledged']}; {result['rss_mb_after']:.0f} MB after {total:,} envelopes; "
            f"Relay's view of every item caught up {result.get('view_caught_up_s')} s after the load"
        )
        if "Spotlight" in results:
            result["ratio_to_spotlight"] = round(result["per_second"] / results["Spotlight"]["per_second"], 1)
            line += f"; {result['ratio_to_spotlight']:.1f}x Spotlight's rate"
        print(line)
    for label, result in results.items():
        per_thread = sorted(result["cpu_us_per_envelope"].items(), key=lambda pair: -pair[1])
        threads = ", ".join(f"{thread} {us} µs" for thread, us in per_thread)
        print(f"CPU per envelope under load, {label}: {threads}")
    print(
        "targets: at least 3,000 envelopes/s, at least 10x Spotlight, stored == acknowledged, under 150 MB, "
        "one sender's p50 at most 2x the cheapest route"
    )


if __name__ == "__main__":
    main()
