"""The forwarding phase of `make bench-relay`: relay-mock forwarding every envelope to
an upstream (a second relay-mock) against the same relay-mock not forwarding, in one run.

- ingest: envelopes/s and acknowledgement latency under the same load, forwarding off and on,
  in rounds taking turns on two servers running side by side (target: the rate within 10%);
- drain: seconds from the end of the load until the outbox is empty, after that saturating burst
  (forwarding yields to a burst: forwarding/forwarder.py) and after a load the size of the default
  `make load` from SDK-like senders (10,000 envelopes, 4 connections; target: at most 10 s); and
  the upstream received what relay-mock counted as sent;
- upstream down: acknowledgement p99 (under load and for one sender) while every forward fails,
  next to upstream up (target: unchanged, within this machine's noise).

relay-mock runs on core 0 as in the main phases; the upstream shares core 1 with the load
generator (it is idle in the "off" runs, so both sides have the same neighbours).
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from relay_mock.client import RelayClient

UPSTREAM_KEY = "5ca1ab1e5ca1ab1e5ca1ab1e5ca1ab1e"
UPSTREAM_PROJECT = 42
DRAIN_DEADLINE_S = 120.0
# The default `make load` (50 users, 60 s) made about 5,400 envelopes from api and as many from
# downstream (docs/benchmarks.md), each SDK sending one at a time: modelled as 4 connections.
PACED_TOTAL = 10_000
PACED_CONCURRENCY = 4

Load = Callable[..., dict[str, Any]]


# The burst in rounds, forwarding off and on taking turns, so that a busy machine weighs on both
# alike; on this shared 2-core machine one round's rate moved by up to a fifth from the last.
ROUNDS = 6


def run(
    *,
    work: Path,
    total: int,
    sequential: int,
    concurrency: int,
    bodies: list[Path],
    headers: list[str],
    load: Load,
    server: Callable[..., Any],
    free_port: Callable[[], int],
) -> dict[str, dict[str, Any]]:
    """Run the phase; `load`, `server` and `free_port` are bench.relay's, so the figures
    are taken exactly as the main phases' are."""
    from bench.relay import store_view_caught_up, thread_cpu  # here: bench.relay imports this module

    python = sys.executable
    up_port = free_port()
    upstream = server(
        "upstream",
        [python, "-m", "relay_mock", "serve"],
        up_port,
        env={
            "RELAY_DATA_DIR": str(work / "fwd-upstream"),
            "RELAY_PORT": str(up_port),
            "RELAY_HOST": "127.0.0.1",
            "RELAY_LOG_LEVEL": "WARNING",
            "RELAY_SYNCHRONOUS": "NORMAL",
            "RELAY_STORE_VIEW": "false",
            "RELAY_PROJECT_REAL": f"http://{UPSTREAM_KEY}@127.0.0.1/{UPSTREAM_PROJECT}",
        },
        cheapest_route="/api/relay/healthcheck/live/",
        ready_route="/api/relay/healthcheck/ready/",
    )
    upstream.core = 1
    dead_port = free_port()  # nothing listens there: every forward fails to connect
    to_upstream = f"http://{UPSTREAM_KEY}@127.0.0.1:{up_port}/{UPSTREAM_PROJECT}"
    to_nowhere = f"http://{UPSTREAM_KEY}@127.0.0.1:{dead_port}/{UPSTREAM_PROJECT}"
    path = "/api/1/envelope/"
    results: dict[str, dict[str, Any]] = {}

    def start(label: str, forward: str | None) -> Any:
        port = free_port()
        env = {
            "RELAY_DATA_DIR": str(work / f"fwd-{label.replace(' ', '-')}"),
            "RELAY_PORT": str(port),
            "RELAY_HOST": "127.0.0.1",
            "RELAY_LOG_LEVEL": "WARNING",
        }
        if forward:
            env["RELAY_FORWARD"] = orjson.dumps({"api": forward}).decode()
        local = server(
            label,
            [python, "-m", "relay_mock", "serve"],
            port,
            env=env,
            cheapest_route="/api/relay/healthcheck/live/",
            ready_route="/api/relay/healthcheck/ready/",
        )
        local.start()
        load(port, path, 2000, concurrency, bodies, headers)  # warm up
        if forward == to_upstream:
            _drained(port)
        with RelayClient(f"http://127.0.0.1:{port}", timeout=60) as relay:
            relay.clear()
        return local

    def bursts(labels: dict[str, Any]) -> None:
        """ROUNDS rounds of the burst, the servers taking turns; after each round of forwarding
        on, its backlog drains before the next server's round (they share core 0)."""
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label in labels}
        cpu: dict[str, float] = dict.fromkeys(labels, 0.0)
        for turn in range(ROUNDS):
            for label, local in labels.items():
                print(f"{label}: {total // ROUNDS:,} envelopes, {concurrency} connections, "
                      f"round {turn + 1} of {ROUNDS} ...", file=sys.stderr)  # fmt: skip
                cpu_before = thread_cpu(local.process.pid)
                run = load(local.port, path, total // ROUNDS, concurrency, bodies, headers)
                ended = time.monotonic()
                cpu[label] += sum(thread_cpu(local.process.pid).values()) - sum(cpu_before.values())
                if label == "forwarding on":
                    run["drain_s"] = round(_drained(local.port) - ended, 2)
                runs[label].append(run)
        for label, done in runs.items():
            answered = sum(r["answered"] for r in done)
            results[label] = {
                "answered": answered,
                "acknowledged": sum(r["acknowledged"] for r in done),
                "per_second": round(answered / sum(r["elapsed_s"] for r in done), 1),
                "rounds_per_second": [r["per_second"] for r in done],
                "p50_ms": sorted(r["p50_ms"] for r in done)[len(done) // 2],  # the median round's
                "p99_ms": max(r["p99_ms"] for r in done),
                # relay-mock's own CPU (every thread) while the load ran, per envelope answered.
                "cpu_us_per_envelope": round(cpu[label] / max(1, answered) * 1e6),
            }
            if label == "forwarding on":
                results[label]["drain_s"] = max(r["drain_s"] for r in done)

    def one_sender(label: str, local: Any) -> None:
        # After "What Sentry stores" has caught up on the bursts (as in bench.relay's main phases):
        # otherwise the one sender measures that worker's catching up on the same core.
        store_view_caught_up(local.port)
        print(f"{label}: {sequential:,} envelopes one after another ...", file=sys.stderr)
        one = load(local.port, path, sequential, 1, bodies, headers)
        results[label]["sequential_p50_ms"], results[label]["sequential_p99_ms"] = one["p50_ms"], one["p99_ms"]

    upstream.start()
    try:
        pair = {"forwarding off": start("forwarding off", None), "forwarding on": start("forwarding on", to_upstream)}
        try:
            bursts(pair)
            on, local = results["forwarding on"], pair["forwarding on"]
            with RelayClient(f"http://127.0.0.1:{local.port}", timeout=60) as relay:
                [project] = relay.forwarding().projects
            on["sent"], on["forward_acknowledged"] = project.sent, project.acknowledged
            on["pending"], on["rejected"], on["expired"] = project.pending, project.rejected, project.expired
            with RelayClient(f"http://127.0.0.1:{up_port}", timeout=60) as relay:
                on["upstream_received"] = relay.stats().envelopes.received
            print(f"forwarding on: {PACED_TOTAL:,} envelopes, {PACED_CONCURRENCY} connections ...", file=sys.stderr)
            paced = load(local.port, path, PACED_TOTAL, PACED_CONCURRENCY, bodies, headers)
            ended = time.monotonic()
            on["paced_per_second"] = paced["per_second"]
            on["paced_drain_s"] = round(_drained(local.port) - ended, 2)
            for label, server_ in pair.items():
                one_sender(label, server_)
        finally:
            for server_ in pair.values():
                server_.stop()
        down = start("upstream down", to_nowhere)
        try:
            bursts({"upstream down": down})
            one_sender("upstream down", down)
        finally:
            down.stop()
    finally:
        upstream.stop()
    return results


def _drained(port: int) -> float:
    """When the outbox was seen empty (time.monotonic()); polls /inspect/forwarding."""
    deadline = time.monotonic() + DRAIN_DEADLINE_S
    with RelayClient(f"http://127.0.0.1:{port}", timeout=60) as relay:
        while time.monotonic() < deadline:
            projects = relay.forwarding().projects
            if all(p.pending == 0 for p in projects):
                return time.monotonic()
            time.sleep(0.1)
    raise SystemExit(f"the forwarding backlog did not drain within {DRAIN_DEADLINE_S:.0f} s")


def report(results: dict[str, dict[str, Any]]) -> None:
    off, on, down = results["forwarding off"], results["forwarding on"], results["upstream down"]
    print(f"{'forwarding':<26}" + "".join(f"{label:>16}" for label in results))
    for label, key in (
        ("answered per second", "per_second"),
        ("p50 ack latency (ms)", "p50_ms"),
        ("p99 ack latency (ms)", "p99_ms"),
        ("one sender: p50 (ms)", "sequential_p50_ms"),
        ("one sender: p99 (ms)", "sequential_p99_ms"),
        ("CPU per envelope (us)", "cpu_us_per_envelope"),
    ):
        print(f"{label:<26}" + "".join(f"{results[r][key]:>16,.1f}" for r in results))
    ratio = on["per_second"] / off["per_second"]
    on["rate_to_off"] = round(ratio, 3)
    # Each round of forwarding on against the round of off just before it: the drift of a shared
    # machine over the run cancels out of these.
    pairs = sorted(b / a for a, b in zip(off["rounds_per_second"], on["rounds_per_second"], strict=True))
    on["round_ratios"] = [round(r, 3) for r in pairs]
    on["median_round_ratio"] = round(statistics.median(pairs), 3)
    print(
        f"forwarding on: {on['per_second']:,.0f}/s = {ratio:.0%} of off ({off['per_second']:,.0f}/s; target >= 90%) "
        f"over {ROUNDS} rounds each, taking turns (per round: off {off['rounds_per_second']}, on "
        f"{on['rounds_per_second']}); backlog empty at most {on['drain_s']} s after a round; sent {on['sent']:,} of "
        f"{on['forward_acknowledged']:,} acknowledged (rejected {on['rejected']}, expired {on['expired']}, "
        f"pending {on['pending']}); the upstream received {on['upstream_received']:,} (with the warm-up's)"
    )
    print(f"forwarding on / off, round by round: {on['round_ratios']} (median {on['median_round_ratio']:.0%})")
    print(
        f"forwarding on, {PACED_TOTAL:,} envelopes over {PACED_CONCURRENCY} connections "
        f"({on['paced_per_second']:,.0f}/s): backlog empty {on['paced_drain_s']} s after the load (target <= 10 s)"
    )
    print(
        f"upstream down: p99 ack {down['p99_ms']} ms under load vs {on['p99_ms']} ms up; one sender p99 "
        f"{down['sequential_p99_ms']} ms vs {on['sequential_p99_ms']} ms up"
    )
