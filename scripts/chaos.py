"""`make chaos SCENARIO=...`: run a short Locust load against the running stack while one
part of it breaks, then report what users and the SDKs went through.

Phases: `before` (baseline), `during` (the part is broken), `after` (healed). For each:
api's requests per second and p50/p99 latency, and the failures users saw (Locust's own
verdict per request). Then what the SDKs dropped and why (their client reports, as
relay-mock counted them), what relay-mock refused, and how long recovery took.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from relay_mock.client import EnvelopeFilters, RelayClient, RelayError
from scripts.chaos_books import ReportedDrop, SentRequest, account

ROOT = Path(__file__).resolve().parents[1]
RELAY = f"http://127.0.0.1:{os.environ.get('RELAY_PORT', '9000')}"
SERVICES = {
    "api": f"http://127.0.0.1:{os.environ.get('API_PORT', '8000')}",
    "downstream": f"http://127.0.0.1:{os.environ.get('DOWNSTREAM_PORT', '8001')}",
}


def compose(*args: str) -> None:
    subprocess.run(["docker", "compose", *args], cwd=ROOT, check=True, capture_output=True, text=True)


def add_fault(rule: dict[str, Any]) -> Callable[[], None]:
    def add() -> None:
        with RelayClient(RELAY, timeout=10) as relay:
            relay.add_fault(rule)

    return add


def clear_faults() -> None:
    with RelayClient(RELAY, timeout=10) as relay:
        relay.clear_faults()


@dataclass(frozen=True)
class Scenario:
    description: str
    breaks: Callable[[], None]
    heals: Callable[[], None] | None
    # What the tests hold the sandbox to (see tests/e2e/test_chaos.py and docs/resilience.md).
    expect: str
    # The discard reasons api's SDK must report for its transactions while the part is broken,
    # and how long after healing it may still report them (a rate limit's Retry-After, a queue
    # of 3-second requests draining).
    sdk_reasons: tuple[str, ...] = ()
    settle_s: float = 3.0
    # A part that comes back by itself (no heal): waits for it and says when it was back, the
    # moment recovery is timed from (None: not within the wait).
    back: Callable[[], float | None] | None = None


SCENARIOS = {
    "relay-down": Scenario(
        "relay-mock stopped, then started again",
        lambda: compose("stop", "relay-mock"),
        lambda: compose("start", "relay-mock"),
        "api keeps its request rate and latency: the SDK sends in the background and reports what it could not"
        " deliver (network_error, or queue_overflow while Docker's DNS takes seconds to fail)",
        # Which one depends on how long the lookup of a stopped container's name takes to fail:
        # a send that fails is network_error, the envelopes queued behind a hanging one overflow.
        sdk_reasons=("network_error", "queue_overflow", "backpressure"),
    ),
    "relay-429": Scenario(
        "relay-mock answers 429 with X-Sentry-Rate-Limits for transactions",
        add_fault({"action": "rate_limit", "categories": ["transaction"], "retry_after": 5}),
        clear_faults,
        "api keeps its request rate and latency; the SDKs back off and report ratelimit_backoff drops",
        sdk_reasons=("ratelimit_backoff",),
        settle_s=8.0,  # Retry-After: 5
    ),
    "relay-slow": Scenario(
        "relay-mock adds 3 s of latency to every ingest request",
        add_fault({"action": "latency", "latency_ms": 3000}),
        clear_faults,
        "api keeps its request rate and latency; the SDKs' queues overflow and say so",
        sdk_reasons=("queue_overflow",),
        settle_s=8.0,  # requests already under way still take 3 s each
    ),
    "db-restart": Scenario(
        "Postgres restarted under load",
        lambda: compose("restart", "db"),
        None,
        "both services recover on their own (stale pooled connections are detected), and their SDKs report"
        " the database failures of the outage as error events",
        back=lambda: postgres_back(deadline_s=60),
    ),
    "downstream-down": Scenario(
        "downstream stopped, then started again",
        lambda: compose("stop", "downstream"),
        lambda: compose("start", "downstream"),
        "api answers fast with 503 and reports one error per request, then recovers",
    ),
}


def postgres_back(deadline_s: float) -> float | None:
    """The moment Postgres accepts connections again after `compose restart db` returned (which
    it does once the container runs, before Postgres takes connections): the start of the first
    probe that finds it ready, so the recovery timed from it is never flattered."""
    probe = 'pg_isready -q -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB"'
    deadline = time.time() + deadline_s
    while time.time() < deadline:
        started = time.time()
        result = subprocess.run(
            ["docker", "compose", "exec", "-T", "db", "sh", "-c", probe], cwd=ROOT, capture_output=True, check=False
        )
        if result.returncode == 0:
            return started
        time.sleep(0.1)
    return None


def flush_sdks() -> None:
    """Have both services' SDKs send their pending client reports now (they otherwise send
    them with a later envelope, at most once a minute)."""
    for name, url in SERVICES.items():
        try:
            httpx.post(f"{url}/test-flush", timeout=15).raise_for_status()
        except httpx.HTTPError as exc:
            print(f"  could not flush {name}'s SDK ({exc}); its latest drops may be missing", file=sys.stderr)


def client_report_totals() -> dict[str, int]:
    try:
        with RelayClient(RELAY, timeout=10) as relay:
            stats = relay.stats()
    except (httpx.HTTPError, RelayError):
        return {}
    totals: dict[str, int] = {}
    for project, entries in stats.client_reports.by_project.items():
        for entry in entries:
            key = f"{project}: {entry.reason} / {entry.category}"
            totals[key] = totals.get(key, 0) + entry.quantity
    for reason, count in stats.refused.by_reason.items():
        totals[f"relay-mock refused: {reason}"] = count
    return totals


def stored_transactions(project: str, since: float, until: float | None = None) -> int:
    """Transaction envelopes of one project that relay-mock received in the window."""
    window: EnvelopeFilters = {"type": "transaction", "project": project, "since": since}
    if until is not None:
        window["until"] = until
    with RelayClient(RELAY, timeout=30) as relay:
        return sum(1 for _ in relay.iter_envelopes(payloads=False, **window))


def api_transaction_traces(since: float) -> set[str]:
    """The trace ids of api's transactions relay-mock stored since `since`."""
    window: EnvelopeFilters = {"type": "transaction", "project": "api", "since": since}
    with RelayClient(RELAY, timeout=30) as relay:
        return {envelope.trace_id for envelope in relay.iter_envelopes(payloads=False, **window) if envelope.trace_id}


def api_transaction_drops(since: float) -> list[ReportedDrop]:
    """Each line of api's client reports since `since` that counts dropped transactions, with the
    time relay-mock received it."""
    window: EnvelopeFilters = {"type": "client_report", "project": "api", "since": since}
    drops: list[ReportedDrop] = []
    with RelayClient(RELAY, timeout=30) as relay:
        for envelope in relay.iter_envelopes(payloads=True, **window):
            for item in envelope.items:
                payload = item.payload if item.type == "client_report" and isinstance(item.payload, dict) else {}
                for line in payload.get("discarded_events") or []:
                    if isinstance(line, dict) and line.get("category") == "transaction":
                        quantity = line.get("quantity")
                        if isinstance(quantity, int) and isinstance(line.get("reason"), str):
                            drops.append(ReportedDrop(envelope.received_ts, line["reason"], quantity))
    return drops


def locust_requests(since: float, until: float) -> list[SentRequest]:
    """The requests Locust made in the window, as it recorded them in relay-mock (its ground
    truth: the trace it started, whether it sampled it and got an answer, what api's witness
    header said)."""
    with RelayClient(RELAY, timeout=60) as relay:
        expectations = relay.expectations(since=since, until=until, limit=1_000_000)
    requests = []
    for exp in expectations:
        api = next((w for w in exp.witnesses or () if w.service == "api"), None)
        requests.append(
            SentRequest(
                trace_id=exp.trace_id,
                started_at=exp.started_at or 0.0,
                sampled=exp.sampled is not False,
                answered=(exp.status_code or 0) > 0,
                api_sampled=api.sampled if api is not None else None,
            )
        )
    return requests


# What an error event says when its cause is the database going away: the driver's and
# SQLAlchemy's exception types, and the messages of a refused or dropped connection.
DATABASE_FAILURE = re.compile(
    r"asyncpg|postgres|database|sqlalchemy|CannotConnectNow|ConnectionDoesNotExist|InterfaceError|OperationalError"
    r"|DBAPIError|AdminShutdown|ConnectionRefused|ConnectionReset|Connect call failed|connection (?:was|is) closed",
    re.IGNORECASE,
)


def database_errors(since: float, until: float) -> dict[str, Any]:
    """The error events captured in the window whose type or message names the database
    failure: per service counted by exception type (`by_type`) and by the transaction that
    reported them (`by_transaction`), and each trace a service reported more than once
    (`reported_twice`: Locust starts a trace per request, so one failed request reported twice
    by one service shows as its trace twice)."""
    by_type: defaultdict[str, Counter[str]] = defaultdict(Counter)
    by_transaction: defaultdict[str, Counter[str]] = defaultdict(Counter)
    per_trace: Counter[tuple[str, str]] = Counter()
    with RelayClient(RELAY, timeout=30) as relay:
        for service in SERVICES:
            cursor: int | None = None
            for _ in range(100):
                page = relay.errors(project=service, limit=500, cursor=cursor)
                for error in page.errors:
                    at = error.timestamp or 0.0
                    text = f"{error.type or ''} {error.value or ''} {error.message or ''}"
                    if since <= at <= until and DATABASE_FAILURE.search(text):
                        by_type[service][error.type or "(no type)"] += 1
                        by_transaction[service][error.transaction or "(no transaction)"] += 1
                        if error.trace_id:
                            per_trace[(service, error.trace_id)] += 1
                oldest = min((e.timestamp or 0.0 for e in page.errors), default=0.0)
                if page.next_cursor is None or oldest < since:
                    break
                cursor = page.next_cursor
    twice = sorted(f"{service} {trace_id} x{n}" for (service, trace_id), n in per_trace.items() if n > 1)
    return {
        "by_type": {service: dict(counts) for service, counts in by_type.items()},
        "by_transaction": {service: dict(counts) for service, counts in by_transaction.items()},
        "reported_twice": twice,
    }


def api_unavailable_errors(since: float, until: float) -> int:
    """api's error events saying downstream was unreachable, captured in the window."""
    with RelayClient(RELAY, timeout=30) as relay:
        page = relay.errors(project="api", q="DependencyUnavailable", limit=1000)
    return sum(
        1 for error in page.errors if error.type == "DependencyUnavailable" and since <= (error.timestamp or 0) <= until
    )


def run_locust(log: Path, duration: int, users: int, user_rate: float) -> subprocess.Popen[str]:
    command = [
        "docker", "compose", "run", "--rm", "--no-deps", "-T", "--user", f"{os.getuid()}:{os.getgid()}",
        "-v", f"{log.parent}:/reports", "-e", f"LOCUST_REQUEST_LOG=/reports/{log.name}",
        "-e", f"LOCUST_USER_RATE={user_rate}",
        "locust", "--headless", "-u", str(users), "-r", str(users), "-t", f"{duration}s",
        "--host", "http://api:8000", "--only-summary", "--exit-code-on-error", "0",
    ]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


WINDOW_S = 2.0


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(p * len(ordered)))], 1) if ordered else 0.0


def windows(rows: list[tuple[float, str, int, float, int]], start: float, end: float) -> dict[str, Any]:
    """The phase cut into 2-second windows: each window's request rate and p95 latency, and
    their medians and spreads (median absolute deviation). One slow second of a noisy VM moves
    a mean; it does not move a median of ten windows."""
    rates: list[float] = []
    p95s: list[float] = []
    left = start
    while left + WINDOW_S <= end + 1e-9:
        inside = [row[3] for row in rows if left <= row[0] < left + WINDOW_S]
        rates.append(len(inside) / WINDOW_S)
        p95s.append(_pct(inside, 0.95))
        left += WINDOW_S

    def median_and_spread(values: list[float]) -> tuple[float, float]:
        if not values:
            return 0.0, 0.0
        middle = statistics.median(values)
        return round(middle, 2), round(statistics.median(abs(v - middle) for v in values), 2)

    rate, rate_spread = median_and_spread(rates)
    p95, p95_spread = median_and_spread(p95s)
    return {
        "count": len(rates),
        "rate_median": rate,
        "rate_spread": rate_spread,
        "p95_median_ms": p95,
        "p95_spread_ms": p95_spread,
    }


def phase_stats(rows: list[tuple[float, str, int, float, int]], start: float, end: float) -> dict[str, Any]:
    inside = [row for row in rows if start <= row[0] < end]
    latencies = [row[3] for row in inside]

    def pct(p: float) -> float:
        return _pct(latencies, p)

    failures = [row for row in inside if row[4]]
    by_status: dict[str, int] = {}
    for row in failures:
        by_status[str(row[2])] = by_status.get(str(row[2]), 0) + 1
    return {
        "requests": len(inside),
        "per_second": round(len(inside) / (end - start), 1) if end > start else 0.0,
        "p50_ms": pct(0.50),
        "p99_ms": pct(0.99),
        "failures": len(failures),
        "failures_by_status": by_status,
        "windows": windows(rows, start, end),
    }


def recovery_seconds(
    rows: list[tuple[float, str, int, float, int]], healed: float, end: float, baseline: float
) -> float | None:
    """Seconds from the heal until 3 consecutive seconds run with the baseline failure rate."""
    threshold = baseline + 0.02
    second = healed
    streak_start: float | None = None
    streak = 0
    while second + 1 <= end:
        bucket = [row for row in rows if second <= row[0] < second + 1]
        rate = sum(row[4] for row in bucket) / len(bucket) if bucket else 1.0
        if bucket and rate <= threshold:
            streak_start = second if streak == 0 else streak_start
            streak += 1
            if streak >= 3:
                return round((streak_start or second) - healed, 1)
        else:
            streak = 0
        second += 1
    return None


def main() -> None:
    parser = argparse.ArgumentParser(description="break one part of the sandbox under load and report")
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--before", type=int, default=20)
    parser.add_argument("--during", type=int, default=20)
    parser.add_argument("--after", type=int, default=30)
    parser.add_argument("--users", type=int, default=20)
    # A fixed offered load: the phases compare what api served of the same demand, so Locust's
    # random think time and the latency of the moment do not move the rate.
    parser.add_argument("--user-rate", type=float, default=1.5, help="requests per second per user")
    parser.add_argument("--json", help="write the report here too")
    parser.add_argument("--reports", default=str(ROOT / "reports"), help="where the per-request log goes")
    args = parser.parse_args()
    scenario = SCENARIOS[args.scenario]

    reports = Path(args.reports).resolve()
    reports.mkdir(parents=True, exist_ok=True)
    log = reports / f"chaos-{args.scenario}-{time.strftime('%Y%m%d-%H%M%S')}.csv"
    clear_faults()
    drops_before = client_report_totals()
    total = args.before + args.during + args.after
    print(f"chaos {args.scenario}: {scenario.description}", file=sys.stderr)
    print(
        f"  {args.users} Locust users for {total}s: {args.before}s before, {args.during}s broken, {args.after}s after",
        file=sys.stderr,
    )
    locust = run_locust(log, total + 5, args.users, args.user_rate)
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(locust.stdout or []), daemon=True)
    reader.start()
    deadline = time.time() + 60
    while not log.exists() or log.stat().st_size == 0:  # the first request marks t0
        if time.time() > deadline or locust.poll() is not None:
            raise SystemExit("Locust did not start:\n" + "".join(output))
        time.sleep(0.2)
    t0 = time.time()
    time.sleep(args.before)
    broke = time.time()
    print("  breaking ...", file=sys.stderr)
    scenario.breaks()
    back = scenario.back() if scenario.back is not None else None
    time.sleep(max(0.0, broke + args.during - time.time()))
    healed = time.time()
    if scenario.heals is not None:
        print("  healing ...", file=sys.stderr)
        scenario.heals()
    # Once the heal has settled, have the SDKs report what they dropped so far: whatever they
    # report after this point was dropped after the part was healthy again.
    time.sleep(max(0.0, min(healed + scenario.settle_s, t0 + total - 2) - time.time()))
    settled = time.time()
    flush_sdks()
    drops_settled = client_report_totals()
    # The SDKs' account of everything dropped until the heal settled is in relay-mock now: the
    # requests started from here on are the ones whose losses only later reports can tell.
    reported = time.time()
    locust.wait()
    end = min(t0 + total, time.time())

    rows = []
    for line in log.read_text().splitlines():
        ts, name, status, latency, failed = line.split(",")
        rows.append((float(ts), name, int(status), float(latency), int(failed)))
    before = phase_stats(rows, t0, broke)
    during = phase_stats(rows, broke, healed)
    after = phase_stats(rows, healed, end)
    baseline_rate = before["failures"] / before["requests"] if before["requests"] else 0.0
    recovered_from = back if scenario.back is not None else healed
    recovery = recovery_seconds(rows, recovered_from, end, baseline_rate) if recovered_from is not None else None
    flush_sdks()
    drops_after = client_report_totals()
    report = {
        "scenario": args.scenario,
        "description": scenario.description,
        "expect": scenario.expect,
        "phases": {"before": before, "during": during, "after": after},
        "during_vs_before": {
            "rate": round(during["per_second"] / before["per_second"], 3) if before["per_second"] else None,
            "p99": round(during["p99_ms"] / before["p99_ms"], 3) if before["p99_ms"] else None,
        },
        # From the heal; for a part that comes back by itself, from the moment it was back.
        "recovery_s": recovery,
        "sdk_drops_and_refusals": {
            key: drops_after.get(key, 0) - drops_before.get(key, 0)
            for key in sorted(set(drops_after) | set(drops_before))
            if drops_after.get(key, 0) != drops_before.get(key, 0)
        },
        "unavailable": _unavailable(rows, broke, end) if args.scenario == "downstream-down" else None,
        "database": _database_outage(rows, broke, back, recovery, end) if args.scenario == "db-restart" else None,
        "sdk_evidence": _evidence(
            scenario, rows, t0, (settled, reported), end, drops_before, drops_settled, drops_after
        ),
        "window": {"t0": t0, "broke": broke, "healed": healed, "back": back, "end": end},
        "request_log": str(log),
    }
    print_report(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))


def _unavailable(rows: list[tuple[float, str, int, float, int]], broke: float, end: float) -> dict[str, Any]:
    """While downstream was away: how api answered, and how often it told Sentry."""
    answered = [row for row in rows if broke <= row[0] < end and row[2] == 503]
    latencies = sorted(row[3] for row in answered)
    # The SDK sends in the background: give the last events a few seconds to arrive.
    deadline = time.time() + 15
    events = api_unavailable_errors(broke - 1, end + 5)
    while events < len(answered) and time.time() < deadline:
        time.sleep(0.5)
        events = api_unavailable_errors(broke - 1, end + 5)
    return {
        "responses_503": len(answered),
        "p99_ms_503": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))] if latencies else None,
        "error_events": events,
    }


def _database_outage(
    rows: list[tuple[float, str, int, float, int]], broke: float, back: float | None, recovery: float | None, end: float
) -> dict[str, Any]:
    """From `compose restart db` until the services served as before: how long Postgres was away,
    what users saw, and what the services' SDKs told Sentry about it (error events naming the
    database failure, captured in that time)."""
    until = min(end, (back or end) + (recovery or 0.0) + 2.0)
    failed = [row for row in rows if broke <= row[0] < until and row[4]]
    # The SDK sends in the background: give the last events a moment to arrive.
    flush_sdks()
    return {
        "restarted_at": broke,
        "postgres_back_at": back,
        "postgres_back_after_s": round(back - broke, 1) if back is not None else None,
        "window_until": until,
        "failed_requests": len(failed),
        "error_events": database_errors(broke, until),
    }


# Transactions api decided not to sample: its health probes (never traced). Locust samples every
# trace it starts, so these are no request of the load's.
UNSAMPLED = "api: sample_rate /"


def _evidence(
    scenario: Scenario,
    rows: list[tuple[float, str, int, float, int]],
    t0: float,
    heal: tuple[float, float],
    end: float,
    before: dict[str, int],
    at_settled: dict[str, int],
    after: dict[str, int],
) -> dict[str, Any]:
    """What api's SDK says about the break, and whether its books balance: every request Locust
    made is one transaction api's SDK either delivered (stored in relay-mock) or reported as
    dropped, with a reason, in its client reports (`sample_rate` drops are api's unsampled probes,
    shown but not counted). `heal`: when the heal had settled, and when the SDKs' reports of the
    drops until then were in relay-mock."""
    settled, reported = heal

    def dropped(totals: dict[str, int], since: dict[str, int], reasons: tuple[str, ...] = ()) -> int:
        return sum(
            count - since.get(key, 0)
            for key, count in totals.items()
            if key.startswith("api: ")
            and key.endswith(" / transaction")
            and (key.split(": ", 1)[1].split(" /")[0] in reasons if reasons else not key.startswith(UNSAMPLED))
        )

    direct = tuple(reason for reason in scenario.sdk_reasons if reason != "backpressure")
    by_reason = {
        key.removeprefix("api: ").removesuffix(" / transaction"): after[key] - before.get(key, 0)
        for key in after
        if key.startswith("api: ") and key.endswith(" / transaction") and after[key] != before.get(key, 0)
    }
    return {
        "reasons": list(scenario.sdk_reasons),
        "api_requests": len(rows),
        "api_transactions_stored": stored_transactions("api", t0 - 1),
        "api_transactions_dropped": dropped(after, before),
        "api_dropped_by_reason": by_reason,
        "reported_until_settled": dropped(at_settled, before, scenario.sdk_reasons) if scenario.sdk_reasons else None,
        # The SDK's backpressure monitor lowers its sample rate for a while after the transport is
        # healthy again (it checks every 10 s): that is the SDK recovering, not the break going on.
        "reported_after_settled": dropped(after, at_settled, direct) if direct else None,
        "backpressure_after_settled": dropped(after, at_settled, ("backpressure",)),
        "settled_at": settled,
        "api_requests_after_settled": sum(1 for row in rows if settled <= row[0] < end),
        "reported_at": reported,
        # Started (answered time less latency) after that point, by the request log.
        "api_requests_after_reported": sum(1 for row in rows if reported <= row[0] - row[3] / 1000 < end),
        # Request by request (scripts/chaos_books.py): each one Locust started once the heal had
        # settled and the SDKs had reported their drops until then, its own transaction arrived or
        # api's SDK reported a loss that can be its.
        "after_heal": account(
            locust_requests(t0 - 1, end),
            api_transaction_traces(t0 - 1),
            api_transaction_drops(t0 - 1),
            since=reported,
        ).as_dict(),
    }


def print_report(report: dict[str, Any]) -> None:
    print(f"\n{report['scenario']}: {report['description']}")
    print(f"{'phase':<8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'failures':>9}  by status")
    for name, phase in report["phases"].items():
        print(
            f"{name:<8} {phase['per_second']:>8} {phase['p50_ms']:>8} {phase['p99_ms']:>8} {phase['failures']:>9}"
            f"  {phase['failures_by_status'] or ''}"
        )
    ratio = report["during_vs_before"]
    print(f"during/before: request rate x{ratio['rate']}, p99 x{ratio['p99']}")
    recovery = report["recovery_s"]
    since = "Postgres was back" if report["database"] is not None else "healing"
    print(f"recovery: {'not within the run' if recovery is None else f'{recovery} s after {since}'}")
    print("what the SDKs dropped (client reports) and relay-mock refused, during the run:")
    for key, count in report["sdk_drops_and_refusals"].items() or [("(nothing)", 0)]:
        print(f"  {key}: {count}")
    unavailable = report["unavailable"]
    if unavailable is not None:
        print(
            f"api answered 503 {unavailable['responses_503']} times (p99 {unavailable['p99_ms_503']} ms) and "
            f"reported {unavailable['error_events']} DependencyUnavailable errors to Sentry"
        )
    evidence = report["sdk_evidence"]
    print(
        f"api's books: {evidence['api_requests']} requests = {evidence['api_transactions_stored']} transactions "
        f"stored + {evidence['api_transactions_dropped']} reported dropped {evidence['api_dropped_by_reason'] or ''}"
    )
    if evidence["reasons"]:
        print(
            f"api's SDK reported {' or '.join(evidence['reasons'])}: "
            f"{evidence['reported_until_settled']} until the heal settled, "
            f"{evidence['reported_after_settled']} after (and {evidence['backpressure_after_settled']} "
            f"backpressure while the SDK recovered)"
        )
    heal = evidence["after_heal"]
    print(
        f"after the heal settled and the SDKs reported, request by request: {heal['requests']} requests (Locust's "
        f"record; {evidence['api_requests_after_reported']} in its log) = {heal['arrived']} transactions arrived + "
        f"{heal['reported']} losses api's SDK reported {heal['reported_by_reason'] or ''} + {heal['not_owed']} "
        f"owed none; {heal['unaccounted']} unaccounted {heal['unaccounted_examples'] or ''}"
    )
    if heal["earlier_unaccounted"]:
        first, last = (round(at - report["window"]["t0"], 1) for at in heal["earlier_unaccounted_started"])
        print(
            f"before that point, {heal['earlier_unaccounted']} requests neither arrived nor were reported dropped "
            f"(started {first} s to {last} s into the run; the break began at "
            f"{round(report['window']['broke'] - report['window']['t0'], 1)} s)"
        )
    database = report["database"]
    if database is not None:
        print(
            f"Postgres back {database['postgres_back_after_s']} s after the restart began; "
            f"{database['failed_requests']} requests failed until recovery; database errors the SDKs reported: "
            f"{database['error_events']['by_type'] or 'none'}, by transaction "
            f"{database['error_events']['by_transaction'] or 'none'}; reported twice: "
            f"{database['error_events']['reported_twice'] or 'none'}"
        )
    for name, phase in report["phases"].items():
        w = phase["windows"]
        print(
            f"{name:<8} {w['count']} windows of {WINDOW_S:.0f} s: req/s median {w['rate_median']} "
            f"(spread {w['rate_spread']}), p95 median {w['p95_median_ms']} ms (spread {w['p95_spread_ms']})"
        )
    print(f"expected: {report['expect']}\nper-request log: {report['request_log']}")


if __name__ == "__main__":
    main()
