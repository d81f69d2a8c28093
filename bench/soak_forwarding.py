"""`make soak FORWARD=1`: the soak with forwarding on (issue 19). Every envelope relay-mock
acknowledges must end up counted once, per project:

    sent + rejected + expired + pending = acknowledged (as the senders saw it)

and every envelope counted `sent` must be in the upstream's store.

Two forwarded projects (api and downstream) are loaded at a steady rate from separate load
generator processes, each to its own project on the upstream: a second relay-mock over HTTP.
The upstream's own fault rules answer some of the forwards: 503 and 400 for a fraction of
them all along, a 429 (`X-Sentry-Rate-Limits` for transactions) once per cycle, and an outage
(503 for twice RELAY_FORWARD_MAX_AGE) once per cycle, so envelopes acknowledged during it
expire. At the end, once the backlog is empty (or a deadline passed), `GET /inspect/forwarding`
is read and the books are checked against the senders' counts and the upstream's store.

`run()` does it; `check()` lists what does not add up (empty: the books balance). The CI test
(tests/relay_http/test_forwarding_soak.py) runs both at a small size.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brotli
import orjson

from relay_mock.client import RelayClient
from relay_mock.settings import load_projects

# Each forwarded project → its project id and key on the upstream.
UPSTREAM_PROJECTS = {
    "api": (42, "0123456789abcdef0123456789abcdef"),
    "downstream": (43, "fedcba9876543210fedcba9876543210"),
}
CYCLE_MAX_S = 60.0  # one round of the fault plan at least this often
DRAIN_MARGIN_S = 30.0  # after the load, how long past RELAY_FORWARD_MAX_AGE the backlog may take
SAMPLE_EVERY_S = 2.0


@dataclass
class Faults:
    """What the upstream does to the forwards (its own fault rules, POST /inspect/faults)."""

    fraction_503: float = 0.01
    fraction_400: float = 0.01
    rate_limit_s: int = 2  # a 429 for transactions once per cycle, for this long
    outage: bool = True  # 503 to everything for twice the max age, once per cycle


@dataclass
class Soak:
    rate: float  # envelopes per second, over both projects
    duration_s: float
    work: Path
    max_age_s: float = 5.0
    faults: Faults = field(default_factory=Faults)
    concurrency: int = 64  # per load generator
    quiet: bool = False


def _say(soak: Soak, text: str) -> None:
    if not soak.quiet:
        print(text, file=sys.stderr)


def run(soak: Soak, *, python: str = sys.executable) -> dict[str, Any]:
    """Run the soak; the result holds, per project, what the senders saw acknowledged, what
    relay-mock's /inspect/forwarding says and what the upstream stored."""
    from bench.relay import ROOT, TRANSACTION, _env, free_port, pinned, rss_mb, wait_ready

    work = soak.work
    work.mkdir(parents=True, exist_ok=True)
    projects = {p.name: p for p in load_projects({}).values()}
    up_port, port = free_port(), free_port()
    upstream_env = {
        f"RELAY_PROJECT_REAL{name.upper()}": f"http://{key}@127.0.0.1/{pid}"
        for name, (pid, key) in UPSTREAM_PROJECTS.items()
    }
    # The upstream keeps everything it takes, so that it can be counted.
    total = int(soak.rate * soak.duration_s)
    upstream_env |= {"RELAY_RETENTION_MAX_ENVELOPES": str(max(10, 2 * total)),
                     "RELAY_RETENTION_MAX_BYTES": str(1 << 40)}  # fmt: skip
    upstream_env |= {"RELAY_STORE_VIEW": "false", "RELAY_SYNCHRONOUS": "NORMAL"}
    forward = {name: f"http://{key}@127.0.0.1:{up_port}/{pid}" for name, (pid, key) in UPSTREAM_PROJECTS.items()}
    local_env = {"RELAY_FORWARD": orjson.dumps(forward).decode(), "RELAY_FORWARD_MAX_AGE": str(soak.max_age_s)}
    processes: list[subprocess.Popen[bytes]] = []

    def serve(name: str, listen: int, core: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
        with (work / f"{name}.log").open("ab") as log:
            process = subprocess.Popen(
                [*pinned(core), python, "-m", "relay_mock", "serve"],
                cwd=ROOT,
                env={**_env(), "RELAY_DATA_DIR": str(work / name), "RELAY_PORT": str(listen),
                     "RELAY_HOST": "127.0.0.1", "RELAY_LOG_LEVEL": "WARNING", **env},
                stdout=log,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        processes.append(process)
        wait_ready(f"http://127.0.0.1:{listen}/api/relay/healthcheck/ready/", deadline_s=60)
        return process

    # The transaction is api's real POST /orders as its SDK sent it, brotli as sentry-sdk does;
    # an error envelope every fifth request. The same bodies go to both projects (the auth
    # header says which project's key; the URL which project).
    tx = work / "tx.br"
    tx.write_bytes(brotli.compress(TRANSACTION.read_bytes(), quality=4))
    err = work / "err.envelope"
    err.write_bytes(_error_envelope())
    samples: list[dict[str, Any]] = []
    stop = threading.Event()
    result: dict[str, Any] = {"rate": soak.rate, "duration_s": soak.duration_s, "max_age_s": soak.max_age_s}
    try:
        serve("upstream", up_port, 1, upstream_env)
        local = serve("local", port, 0, local_env)
        url, up_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{up_port}"
        with RelayClient(up_url) as upstream:
            if soak.faults.fraction_503:
                upstream.add_fault(action="status", status=503, fraction=soak.faults.fraction_503)
            if soak.faults.fraction_400:
                upstream.add_fault(action="status", status=400, fraction=soak.faults.fraction_400)
        started = time.monotonic()
        plan = threading.Thread(target=_fault_plan, args=(soak, up_url, started, stop), daemon=True)
        plan.start()

        def sample() -> None:
            with RelayClient(url, timeout=30) as relay:
                while not stop.wait(SAMPLE_EVERY_S):
                    try:
                        answer = relay.forwarding()
                    except Exception:  # noqa: BLE001 - a sample missed under load is no failure
                        continue
                    pending = sum(p.pending for p in answer.projects)
                    samples.append({"t": round(time.monotonic() - started), "pending": pending,
                                    "rss_mb": round(rss_mb(local.pid), 1)})  # fmt: skip

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        per_project = total // len(UPSTREAM_PROJECTS)
        loads = {}
        for name in UPSTREAM_PROJECTS:
            project = projects[name]
            command = [*pinned(1), python, "-m", "bench.loadgen", "--port", str(port)]
            command += ["--path", f"/api/{project.id}/envelope/", "--total", str(per_project)]
            command += ["--concurrency", str(soak.concurrency), "--rate", str(soak.rate / len(UPSTREAM_PROJECTS))]
            command += ["--body", str(tx)] * 4 + ["--body", str(err)]
            command += ["--header", f"x-sentry-auth: Sentry sentry_key={project.public_key}, sentry_version=7, "
                        "sentry_client=sentry.python/2.0.0"]  # fmt: skip
            command += ["--header", "content-type: application/x-sentry-envelope"]
            # loadgen sends every body with the same headers: the error is brotli too.
            command += ["--header", "content-encoding: br"]
            loads[name] = subprocess.Popen(command, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, text=True)
        _say(soak, f"soak with forwarding: {soak.rate:.0f} envelopes/s for {soak.duration_s:.0f} s ({total:,}), "
             f"RELAY_FORWARD_MAX_AGE={soak.max_age_s:g}")  # fmt: skip
        sent = {}
        for name, loader in loads.items():
            out, _ = loader.communicate()
            if loader.returncode != 0:
                raise RuntimeError(f"the load generator for {name} failed ({loader.returncode})")
            sent[name] = json.loads(out)
        load_ended = time.monotonic()
        result["load_s"] = round(load_ended - started, 1)
        drained = _wait_drained(url, soak.max_age_s + DRAIN_MARGIN_S)
        stop.set()
        result["drained_after_s"] = None if drained is None else round(drained - load_ended, 2)
        with RelayClient(url, timeout=60) as relay:
            forwarding = {p.project.name: p for p in relay.forwarding().projects}
        with RelayClient(up_url, timeout=120) as upstream:
            stored = {s.project_id: s.envelopes for s in upstream.stats().by_project.values()}
            upstream_refused = upstream.stats().refused.by_status
        result["projects"] = {
            name: {
                "client": {key: sent[name][key] for key in ("answered", "acknowledged", "statuses",
                                                            "connection_failures", "per_second", "p50_ms", "p99_ms")},
                "forwarding": forwarding[name].model_dump(exclude={"project", "upstream"}) if name in forwarding
                else None,
                "upstream_project": pid,
                "upstream_stored": stored.get(pid, 0),
            }
            for name, (pid, _) in UPSTREAM_PROJECTS.items()
        }  # fmt: skip
        result["upstream_refused_by_status"] = upstream_refused
        result["rss_mb_end"] = round(rss_mb(local.pid), 1)
    finally:
        stop.set()
        for process in reversed(processes):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    result["samples"] = samples
    result["max_pending"] = max((s["pending"] for s in samples), default=0)
    return result


def _error_envelope() -> bytes:
    """A small error event envelope, brotli-compressed as the SDK sends it."""
    header = {"event_id": "b" * 32, "sent_at": "2026-01-01T00:00:00Z", "sdk": {"name": "sentry.python", "version": "2"}}
    payload = {"event_id": "b" * 32, "level": "error", "platform": "python", "message": "soak",
               "exception": {"values": [{"type": "ValueError", "value": "soak"}]}}  # fmt: skip
    item = orjson.dumps(payload)
    raw = orjson.dumps(header) + b"\n" + orjson.dumps({"type": "event", "length": len(item)}) + b"\n" + item + b"\n"
    return bytes(brotli.compress(raw, quality=4))


def _fault_plan(soak: Soak, up_url: str, started: float, stop: threading.Event) -> None:
    """Once per cycle: a 429 for transactions at a fifth of it, an outage at its middle."""
    cycle = min(CYCLE_MAX_S, soak.duration_s)
    events = []
    at = 0.0
    while at < soak.duration_s:
        if soak.faults.rate_limit_s:
            # One per upstream project: the forwarder keeps limits per upstream (project URL).
            events += [
                (at + 0.2 * cycle, {"action": "rate_limit", "categories": ["transaction"], "project": pid,
                                    "retry_after": soak.faults.rate_limit_s, "count": 1})
                for pid, _ in UPSTREAM_PROJECTS.values()
            ]  # fmt: skip
        if soak.faults.outage:
            events.append((at + 0.5 * cycle, {"action": "status", "status": 503,
                                              "duration_s": 2 * soak.max_age_s}))  # fmt: skip
        at += cycle
    with RelayClient(up_url, timeout=30) as upstream:
        for when, rule in events:
            if stop.wait(max(0.0, started + when - time.monotonic())):
                return
            upstream.add_fault(rule)


def _wait_drained(url: str, deadline_s: float) -> float | None:
    """When the backlog was seen empty (time.monotonic()); None if not within the deadline."""
    deadline = time.monotonic() + deadline_s
    with RelayClient(url, timeout=60) as relay:
        while time.monotonic() < deadline:
            if all(p.pending == 0 for p in relay.forwarding().projects):
                return time.monotonic()
            time.sleep(0.25)
    return None


def check(result: dict[str, Any], *, exercised: bool = True) -> list[str]:
    """What does not add up, per project (empty: the books balance). With `exercised`, also
    that every outcome the soak means to cause happened at least once (else it proved little)."""
    problems: list[str] = []
    if result.get("drained_after_s") is None:
        problems.append("the backlog was not empty by the deadline")
    for name, books in result["projects"].items():
        client, fwd = books["client"], books["forwarding"]
        if fwd is None:
            problems.append(f"{name}: not in /inspect/forwarding")
            continue
        acked = client["acknowledged"]
        if client["answered"] != acked or client["connection_failures"]:
            problems.append(f"{name}: relay-mock refused or failed some: {client['statuses']}, "
                            f"{client['connection_failures']} connection failures")  # fmt: skip
        if fwd["acknowledged"] != acked:
            problems.append(f"{name}: the senders saw {acked} acknowledged, forwarding counted {fwd['acknowledged']}")
        total = fwd["sent"] + fwd["rejected"] + fwd["expired"] + fwd["pending"]
        if total != acked:
            problems.append(
                f"{name}: sent {fwd['sent']} + rejected {fwd['rejected']} + expired {fwd['expired']} + pending "
                f"{fwd['pending']} = {total}, not the {acked} acknowledged"
            )
        statuses = fwd["statuses"]
        if statuses.get("200", 0) != fwd["sent"]:
            problems.append(f"{name}: sent {fwd['sent']} but the upstream answered 200 {statuses.get('200', 0)} times")
        answered_4xx = sum(n for status, n in statuses.items() if status != "429" and 300 <= int(status) < 500)
        if answered_4xx != fwd["rejected"]:
            problems.append(f"{name}: rejected {fwd['rejected']} but the upstream refused {answered_4xx} with 3xx/4xx")
        # Every `sent` is in the upstream's store; more only after a send whose answer was lost.
        upstream = books["upstream_stored"]
        if not fwd["sent"] <= upstream <= fwd["sent"] + fwd["duplicates"]:
            problems.append(
                f"{name}: the upstream stored {upstream} under project {books['upstream_project']}, "
                f"relay-mock counted {fwd['sent']} sent ({fwd['duplicates']} possible duplicates)"
            )
        if exercised:
            missing = [what for what in ("sent", "rejected", "expired") if not fwd[what]]
            missing += [f"status {s}" for s in ("400", "429", "503") if s not in statuses]
            if missing:
                problems.append(f"{name}: the soak never caused {', '.join(missing)}")
    return problems


def report(result: dict[str, Any]) -> str:
    lines = [
        f"forwarding soak: {result['rate']:.0f} envelopes/s for {result['duration_s']:.0f} s over "
        f"{len(result['projects'])} projects, RELAY_FORWARD_MAX_AGE={result['max_age_s']:g} s; backlog at most "
        f"{result['max_pending']:,}, empty {result['drained_after_s']} s after the load"
    ]
    for name, books in result["projects"].items():
        client, fwd = books["client"], books["forwarding"] or {}
        lines.append(
            f"  {name}: acknowledged {client['acknowledged']:,} (p50 {client['p50_ms']} ms, p99 {client['p99_ms']} ms)"
            f" = sent {fwd.get('sent', 0):,} + rejected {fwd.get('rejected', 0):,} + expired {fwd.get('expired', 0):,}"
            f" + pending {fwd.get('pending', 0):,}; duplicates {fwd.get('duplicates', 0)}; upstream statuses "
            f"{fwd.get('statuses')}; the upstream stored {books['upstream_stored']:,} under project "
            f"{books['upstream_project']}"
        )
    return "\n".join(lines)


def main(soak: Soak, json_path: str | None) -> int:
    from bench.relay import write_json

    result = run(soak)
    problems = check(result)
    result["problems"] = problems
    print(report(result))
    print("books balanced" if not problems else "PROBLEMS:\n  " + "\n  ".join(problems))
    if json_path:
        write_json(json_path, result)
    return 0 if not problems else 1
