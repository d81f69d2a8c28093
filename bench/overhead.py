"""`make bench-overhead`: what Sentry costs api, measured side by side in one run.

Three api/downstream pairs run at once, identical but for Sentry: `off` (no SDK), `sdk`
(the SDK with the same integrations, all active, and sample rate, nothing of this project's)
and `full` (the SDK plus this project's layer: hooks, sampler, tracing middleware).
api runs alone on core 0; downstream, relay-mock, Postgres and the load generator share core 1,
so api's own cost decides the rate. Rounds interleave the modes to cancel drift.
Reports request rates and, steadier on a shared VM, api's CPU time per request read from the
kernel's accounting of each api process (/proc/<pid>/stat). Failed requests are counted, not fatal.
Target: `full` costs at most 5% more CPU per request than `sdk` (the project's layer).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

from bench.relay import PYTHON, ROOT, _env, free_port, pinned, wait_ready, write_json
from bench.span_scrubbing import span_scrubbing_cost
from relay_mock.sandbox_projects import API, DOWNSTREAM

API_DSN = API.dsn("127.0.0.1:{port}")
DOWNSTREAM_DSN = DOWNSTREAM.dsn("127.0.0.1:{port}")
MODES = {
    "off": {"SENTRY_DSN": ""},
    "sdk": {"SENTRY_BARE_SDK": "true"},
    "full": {},
}


def compose_db(port: int, up: bool) -> None:
    env = {**os.environ, "DB_PORT": str(port), "COMPOSE_PROJECT_NAME": "sentry-sandbox-bench"}
    if env.get("OFFLINE") == "1":
        env.setdefault("POSTGRES_IMAGE", "sandbox-offline/postgres:15")
    args = ["up", "-d", "--wait", "db"] if up else ["down", "--volumes", "--timeout", "5"]
    result = subprocess.run(["docker", "compose", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if up and result.returncode != 0:
        sys.exit(f"could not start Postgres for the benchmark (OFFLINE=1 without a registry?):\n{result.stderr}")
    if up:
        # Postgres shares the second core with everything but api, and does not fsync every
        # commit: three commits per order would otherwise make the disk, not api, the limit.
        subprocess.run(["docker", "update", "--cpuset-cpus", "1", "sentry-sandbox-bench-db-1"], capture_output=True)
        subprocess.run(
            ["docker", "exec", "sentry-sandbox-bench-db-1", "psql", "-U", "sandbox", "-d", "sandbox", "-c",
             "ALTER DATABASE sandbox SET synchronous_commit = off"],
            check=True,
            capture_output=True,
        )  # fmt: skip


def start_service(name: str, core: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [*pinned(core), PYTHON, "-m", name], cwd=ROOT, env={**_env(), **env}, stdout=out, stderr=subprocess.STDOUT
        )


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU the process has used so far, from the kernel's own accounting: on a
    shared VM this moves far less from run to run than a request rate does."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


@dataclass
class Round:
    per_second: float
    cpu_ms_per_request: float
    failed: int
    statuses: dict[str, int]


def load(port: int, pid: int, method: str, path: str, total: int, body: Path | None) -> Round:
    command = [*pinned(1), PYTHON, "-m", "bench.loadgen", "--port", str(port), "--method", method, "--path", path]
    command += ["--total", str(total), "--concurrency", "16", "--header", "content-type: application/json"]
    if body is not None:
        command += ["--body", str(body)]
    cpu_before = cpu_seconds(pid)
    out = subprocess.run(command, cwd=ROOT, env=_env(), check=True, capture_output=True, text=True)
    cpu = cpu_seconds(pid) - cpu_before
    result = json.loads(out.stdout)
    # A busy machine fails the odd request (a timeout); count it and go on rather than lose the run.
    failed = result["answered"] - result["acknowledged"] + result["connection_failures"]
    return Round(
        per_second=float(result["per_second"]),
        cpu_ms_per_request=round(cpu * 1000 / max(1, result["answered"]), 3),
        failed=failed,
        statuses=result["statuses"],
    )


def scrubbing_cost(repeat: int = 2000) -> float:
    """Microseconds the scrubbing hook takes for api's POST /orders transaction (the captured
    fixture bench-relay sends), in this process: the part of the layer measurable alone."""
    from bench.relay import TRANSACTION
    from servicekit.sentry import scrub_event

    payloads = [line for line in TRANSACTION.read_bytes().split(b"\n") if line.startswith(b"{")]
    transaction = next(json.loads(line) for line in payloads if b'"type":"transaction"' in line and b"spans" in line)
    events = [json.loads(json.dumps(transaction)) for _ in range(repeat)]  # the hook works in place
    started = time.process_time()
    for event in events:
        scrub_event(event)
    return (time.process_time() - started) * 1e6 / repeat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", action="store_true", help="only time the scrubbing hook in process, and exit")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=3000, help="per endpoint, mode and round")
    parser.add_argument("--json", help="also write the results here")
    args = parser.parse_args()
    if args.stages:
        cost = scrubbing_cost()
        print(f"scrubbing api's POST /orders transaction: {cost:.0f} µs of CPU per transaction (mean of 2,000)")
        per_span, spans, attributes = span_scrubbing_cost()
        print(
            f"scrubbing a streamed span (SENTRY_TRACE_LIFECYCLE=stream): {per_span:.1f} µs of CPU per span"
            f" (mean over 2,000 requests' {spans} spans, {attributes} attributes per request)"
        )
        return

    work = Path(tempfile.mkdtemp(prefix="bench-overhead-"))
    db_port, relay_port = free_port(), free_port()
    processes: list[subprocess.Popen[bytes]] = []
    print("starting Postgres, relay-mock and three api/downstream pairs ...", file=sys.stderr)
    compose_db(db_port, up=True)
    try:
        processes.append(
            subprocess.Popen(
                [*pinned(1), PYTHON, "-m", "relay_mock", "serve"],
                cwd=ROOT,
                env={**_env(), "RELAY_DATA_DIR": str(work / "relay"), "RELAY_PORT": str(relay_port),
                     "RELAY_HOST": "127.0.0.1", "RELAY_LOG_LEVEL": "WARNING"},
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )  # fmt: skip
        wait_ready(f"http://127.0.0.1:{relay_port}/api/relay/healthcheck/ready/")
        database = f"postgresql+asyncpg://sandbox:sandbox@127.0.0.1:{db_port}/sandbox"
        common = {
            "DATABASE_URL": database,
            "LOG_LEVEL": "WARNING",
            "SENTRY_MCP_URL": "",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SENTRY_TRACES_SAMPLE_RATE": "1.0",
        }
        api_ports: dict[str, int] = {}
        api_pids: dict[str, int] = {}
        for mode, settings in MODES.items():
            down_port, api_port = free_port(), free_port()
            env = {**common, **settings}
            processes.append(
                start_service(
                    "downstream",
                    1,
                    {"SENTRY_DSN": DOWNSTREAM_DSN.format(port=relay_port), **env, "PORT": str(down_port)},
                    work / f"downstream-{mode}.log",
                )
            )
            processes.append(
                start_service(
                    "api",
                    0,
                    {
                        "SENTRY_DSN": API_DSN.format(port=relay_port),
                        **env,
                        "PORT": str(api_port),
                        "DOWNSTREAM_URL": f"http://127.0.0.1:{down_port}",
                    },
                    work / f"api-{mode}.log",
                )
            )
            api_ports[mode] = api_port
            api_pids[mode] = processes[-1].pid  # taskset execs python: the same process
        for port in api_ports.values():
            wait_ready(f"http://127.0.0.1:{port}/health", deadline_s=60)
        order = work / "order.json"
        order.write_text(json.dumps({"sku": "SKU-1", "quantity": 1, "customer": "bench"}))
        order_ids = {
            mode: httpx.post(f"http://127.0.0.1:{port}/orders", json=json.loads(order.read_text())).json()["id"]
            for mode, port in api_ports.items()
        }
        endpoints = {"POST /orders": ("POST", "/orders", order), "GET /orders/{id}": ("GET", None, None)}
        rounds: dict[str, dict[str, list[Round]]] = {e: {m: [] for m in MODES} for e in endpoints}
        for mode, port in api_ports.items():  # warm-up
            load(port, api_pids[mode], "POST", "/orders", 300, order)
        for round_ in range(args.rounds):
            for endpoint, (method, path, body) in endpoints.items():
                for mode, port in api_ports.items():
                    target = path or f"/orders/{order_ids[mode]}"
                    rounds[endpoint][mode].append(load(port, api_pids[mode], method, target, args.requests, body))
            print(f"  round {round_ + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)
        compose_db(db_port, up=False)

    def median(field: str) -> dict[str, dict[str, float]]:
        return {
            endpoint: {mode: statistics.median(getattr(r, field) for r in runs) for mode, runs in per.items()}
            for endpoint, per in rounds.items()
        }

    rates, cpu = median("per_second"), median("cpu_ms_per_request")
    failures = {e: {m: sum(r.failed for r in rs) for m, rs in per.items()} for e, per in rounds.items()}
    print(f"\n{'requests/s (median of rounds)':<32}{'off':>10}{'sdk':>10}{'full':>10}{'sdk/off':>10}{'full/sdk':>10}")
    for endpoint, per in rates.items():
        print(
            f"{endpoint:<32}{per['off']:>10.0f}{per['sdk']:>10.0f}{per['full']:>10.0f}"
            f"{per['sdk'] / per['off']:>10.2f}{per['full'] / per['sdk']:>10.2f}"
        )
    print(f"\n{'api CPU ms per request (median)':<32}{'off':>10}{'sdk':>10}{'full':>10}{'layer':>10}")
    for endpoint, per in cpu.items():
        layer = per["full"] / per["sdk"] - 1
        print(f"{endpoint:<32}{per['off']:>10.3f}{per['sdk']:>10.3f}{per['full']:>10.3f}{layer:>+10.1%}")
    print(f"\n{'failed requests (all rounds)':<32}{'off':>10}{'sdk':>10}{'full':>10}")
    for endpoint, counts in failures.items():
        print(f"{endpoint:<32}{counts['off']:>10}{counts['sdk']:>10}{counts['full']:>10}")
    print(
        "target: the layer costs at most 5% of api's CPU per request on top of the SDK alone "
        "(full/sdk - 1 <= +5.0%); the request rates are shown for context (noisier on a shared VM)"
    )
    if args.json:
        summary: dict[str, object] = {
            "rounds": {e: {m: [asdict(r) for r in rs] for m, rs in per.items()} for e, per in rounds.items()},
            "median_per_second": rates,
            "median_cpu_ms_per_request": cpu,
            "failed": failures,
        }
        write_json(args.json, summary)


if __name__ == "__main__":
    main()
