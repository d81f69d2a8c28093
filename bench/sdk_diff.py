"""`make sdk-diff`: the same scenario on sentry-python 2 and 3, side by side, per request.

api and downstream run as host processes twice, once from .venv (sentry-sdk 2) and once from
.venv3 (sentry-sdk 3), each pair reporting to one relay-mock (its own process) with its own
release, on one Postgres. The scenario: N orders (POST /orders, across the hop), each starting
a trace of its own with `sentry-trace` and `baggage`, sequentially; then `POST /test-flush` on
every service. For each request the report says what each SDK sent for it, read back from
relay-mock: item types and counts, span names, ops and attribute names, the headers going in and
out (the response's `sentry-trace`/`baggage`, what downstream says it received, the DSC its
envelope carried), the bytes on the wire (compressed, as sent), and the client reports; CPU per
request is each service's CPU time over the run (the kernel's accounting, as bench/overhead.py)
divided by the requests. Writes reports/sdk-diff.json and docs/upgrading-to-sentry-python-3.md.
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.overhead import API_DSN, DOWNSTREAM_DSN, compose_db, cpu_seconds
from bench.relay import PYTHON, ROOT, _env, free_port, wait_ready, write_json
from relay_mock.client import RelayClient
from relay_mock.models import Envelope

INTERPRETERS = {"2": ROOT / ".venv" / "bin" / "python", "3": ROOT / ".venv3" / "bin" / "python"}
DOC = ROOT / "docs" / "upgrading-to-sentry-python-3.md"
# The figures the page was generated from, committed beside it: a test renders them again and
# compares (tests/services/test_sdk_diff_doc.py), so the page cannot drift from its run.
DOC_DATA = DOC.with_suffix(".json")
COMMAND = "make sdk-diff"


def sdk_version(python: Path) -> str:
    out = subprocess.run([str(python), "-c", "import sentry_sdk; print(sentry_sdk.VERSION)"], capture_output=True)
    return out.stdout.decode().strip()


def start_pair(major: str, work: Path, database: str, relay_port: int, version: str) -> dict[str, Any]:
    """downstream and api on one major's interpreter; their ports and pids."""
    python = INTERPRETERS[major]
    common = {
        "DATABASE_URL": database,
        "LOG_LEVEL": "WARNING",
        "SENTRY_MCP_URL": "",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SENTRY_TRACES_SAMPLE_RATE": "1.0",
        "APP_VERSION": version,
    }
    down_port, api_port = free_port(), free_port()
    downstream = subprocess.Popen(
        [str(python), "-m", "downstream"],
        cwd=ROOT,
        env={**_env(), **common, "SENTRY_DSN": DOWNSTREAM_DSN.format(port=relay_port), "PORT": str(down_port)},
        stdout=(work / f"downstream-{major}.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    api = subprocess.Popen(
        [str(python), "-m", "api"],
        cwd=ROOT,
        env={
            **_env(),
            **common,
            "SENTRY_DSN": API_DSN.format(port=relay_port),
            "PORT": str(api_port),
            "DOWNSTREAM_URL": f"http://127.0.0.1:{down_port}",
        },
        stdout=(work / f"api-{major}.log").open("ab"),
        stderr=subprocess.STDOUT,
    )
    for port in (down_port, api_port):
        wait_ready(f"http://127.0.0.1:{port}/health", deadline_s=60)
    return {"api": (api, api_port), "downstream": (downstream, down_port)}


def run_scenario(pair: dict[str, Any], requests: int) -> dict[str, Any]:
    """`requests` orders, each its own trace; what went in and came out; CPU per request."""
    api_port = pair["api"][1]
    # One order first, outside the measurement: imports and connection pools warm up.
    httpx.post(f"http://127.0.0.1:{api_port}/orders", json={"sku": "SKU-1", "quantity": 1}, timeout=10)
    cpu_before = {name: cpu_seconds(process.pid) for name, (process, _) in pair.items()}
    sent = []
    with httpx.Client(timeout=10) as client:
        for _ in range(requests):
            trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
            headers = {
                "sentry-trace": f"{trace_id}-{span_id}-1",
                "baggage": f"sentry-trace_id={trace_id},sentry-sample_rate=1.0,sentry-sample_rand=0.5"
                ",sentry-sampled=true",
            }
            response = client.post(
                f"http://127.0.0.1:{api_port}/orders", json={"sku": "SKU-1", "quantity": 1}, headers=headers
            )
            sent.append(
                {
                    "trace_id": trace_id,
                    "status": response.status_code,
                    "in": headers,
                    "out": {k: response.headers.get(k) for k in ("sentry-trace", "baggage")},
                    "witness": json.loads(response.headers.get("x-sandbox-witness") or "[]"),
                }
            )
    cpu = {
        name: round((cpu_seconds(process.pid) - cpu_before[name]) * 1000 / requests, 3)
        for name, (process, _) in pair.items()
    }
    for _, port in pair.values():
        httpx.post(f"http://127.0.0.1:{port}/test-flush", timeout=40)
    return {"requests": sent, "cpu_ms_per_request": cpu}


def _spans_of(item_type: str, payload: Any) -> list[dict[str, Any]]:
    """(name, op, attribute names) of every span an item carries, its root included."""
    if not isinstance(payload, dict):
        return []
    if item_type == "transaction":
        trace = (payload.get("contexts") or {}).get("trace") or {}
        # A transaction's tags are what a segment span's attributes hold on 3.x: listed together.
        names = {*(trace.get("data") or {}), *(f"tag:{t}" for t in payload.get("tags") or {})}
        root = {"name": payload.get("transaction"), "op": trace.get("op"), "attributes": sorted(names)}
        children = [
            {"name": s.get("description"), "op": s.get("op"), "attributes": sorted(s.get("data") or {})}
            for s in payload.get("spans") or []
        ]
        return [{**root, "segment": True}, *({**c, "segment": False} for c in children)]
    if item_type == "span":
        spans = []
        for s in payload.get("items") or []:
            attributes = s.get("attributes") or {}
            op = attributes.get("sentry.op", {})
            spans.append(
                {
                    "name": s.get("name"),
                    "op": op.get("value") if isinstance(op, dict) else op,
                    "attributes": sorted(attributes),
                    "segment": bool(s.get("is_segment")),
                }
            )
        return spans
    return []


CONTAINERS = ("log", "trace_metric", "span")


def _records(item_type: str, payload: Any, trace_id: str | None) -> tuple[int, int]:
    """(records of `trace_id`, all records) in an item: a container holds many, of any trace."""
    if item_type in CONTAINERS and isinstance(payload, dict):
        records = [r for r in payload.get("items") or [] if isinstance(r, dict)]
        return sum(1 for r in records if trace_id is None or r.get("trace_id") == trace_id), len(records)
    return 1, 1


def what_arrived(relay: RelayClient, request: dict[str, Any]) -> dict[str, Any]:
    """Per service: item types and record counts, spans, the DSC, and the bytes of the envelopes
    that carried this trace, shared out by records where an envelope batched several traces."""
    trace_id = request["trace_id"]
    per_service: dict[str, Any] = {}
    envelopes: list[Envelope] = list(relay.iter_envelopes(trace_id=trace_id, payloads=True))
    for envelope in envelopes:
        service = envelope.project.name or str(envelope.project.id)
        entry = per_service.setdefault(
            service, {"envelopes": 0, "items": Counter(), "bytes": 0.0, "raw_bytes": 0.0, "spans": [], "dsc": None}
        )
        mine = total = 0
        for item in envelope.items:
            ours, every = _records(item.type or "", item.payload, trace_id)
            mine, total = mine + ours, total + every
            if ours:
                entry["items"][item.type or "?"] += ours
            if item.type == "span" and isinstance(item.payload, dict):
                own = {
                    **item.payload,
                    "items": [r for r in item.payload.get("items") or [] if r.get("trace_id") == trace_id],
                }
                entry["spans"].extend(_spans_of("span", own))
            else:
                entry["spans"].extend(_spans_of(item.type or "", item.payload))
        share = mine / total if total else 1.0
        entry["envelopes"] += 1
        entry["bytes"] += (envelope.request.compressed_size or 0) * share
        entry["raw_bytes"] += (envelope.request.raw_size or 0) * share
        entry["dsc"] = entry["dsc"] or envelope.header.get("trace")
        entry["sdk"] = envelope.request.sdk_client
    for entry in per_service.values():
        entry["items"] = dict(sorted(entry["items"].items()))
        entry["bytes"], entry["raw_bytes"] = round(entry["bytes"]), round(entry["raw_bytes"])
    return per_service


def client_reports(relay: RelayClient, release_since: float) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for envelope in relay.iter_envelopes(type="client_report", since=release_since, payloads=True):
        for item in envelope.items:
            if item.type == "client_report":
                found.setdefault(envelope.project.name or "?", []).append(item.payload)
    return found


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(value, 1)


def summarise(per_request: list[dict[str, Any]]) -> dict[str, Any]:
    """The typical request (the median of each figure) per service."""
    services = sorted({s for r in per_request for s in r["arrived"]})
    summary: dict[str, Any] = {}
    for service in services:
        entries = [r["arrived"][service] for r in per_request if service in r["arrived"]]
        first = entries[0]
        summary[service] = {
            "sdk": first.get("sdk"),
            "envelopes": _number(statistics.median(e["envelopes"] for e in entries)),
            "items": first["items"],
            "bytes": _number(statistics.median(e["bytes"] for e in entries)),
            "raw_bytes": _number(statistics.median(e["raw_bytes"] for e in entries)),
            "spans": first["spans"],
            "dsc": first["dsc"],
            "requests_seen": len(entries),
        }
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--json", default=str(ROOT / "reports" / "sdk-diff.json"))
    parser.add_argument("--doc", default=str(DOC))
    parser.add_argument(
        "--database-url", help="an existing Postgres (SQLAlchemy URL) instead of a throw-away compose one"
    )
    args = parser.parse_args()
    for major, python in INTERPRETERS.items():
        if not python.exists():
            sys.exit(f"{python} is missing: `make sdk-diff` makes it (scripts/lib.sh ensure_venv3 for major {major})")

    work = Path(tempfile.mkdtemp(prefix="sdk-diff-"))
    db_port, relay_port = free_port(), free_port()
    print("starting Postgres and relay-mock ...", file=sys.stderr)
    if not args.database_url:
        compose_db(db_port, up=True)
    relay_process = subprocess.Popen(
        [PYTHON, "-m", "relay_mock", "serve"],
        cwd=ROOT,
        env={**_env(), "RELAY_DATA_DIR": str(work / "relay"), "RELAY_PORT": str(relay_port),
             "RELAY_HOST": "127.0.0.1", "RELAY_LOG_LEVEL": "WARNING"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    # The command as run, for the doc: `make sdk-diff`, or with the Postgres it was pointed at.
    command = f"{COMMAND} REQUESTS={args.requests}"
    if args.database_url:  # what `make sdk-diff` runs, on a Postgres of the caller's instead of compose's
        command = f"python -m bench.sdk_diff --requests {args.requests} --database-url <a Postgres 15>"
    results: dict[str, Any] = {"command": command, "requests": args.requests, "majors": {}}
    try:
        wait_ready(f"http://127.0.0.1:{relay_port}/api/relay/healthcheck/ready/")
        database = args.database_url or f"postgresql+asyncpg://sandbox:sandbox@127.0.0.1:{db_port}/sandbox"
        relay = RelayClient(f"http://127.0.0.1:{relay_port}")
        for major in INTERPRETERS:
            version = sdk_version(INTERPRETERS[major])
            print(f"sentry-sdk {version}: {args.requests} orders across the hop ...", file=sys.stderr)
            since = time.time()
            pair = start_pair(major, work, database, relay_port, f"sdk{major}-{secrets.token_hex(3)}")
            try:
                scenario = run_scenario(pair, args.requests)
                per_request = [{**r, "arrived": what_arrived(relay, r)} for r in scenario["requests"]]
                results["majors"][major] = {
                    "sdk_version": version,
                    "cpu_ms_per_request": scenario["cpu_ms_per_request"],
                    "typical": summarise(per_request),
                    "client_reports": client_reports(relay, since),
                    "per_request": per_request,
                }
            finally:
                for process, _ in pair.values():
                    process.terminate()
                for process, _ in pair.values():
                    process.wait(10)
        relay.close()
    finally:
        relay_process.terminate()
        relay_process.wait(10)
        if not args.database_url:
            compose_db(db_port, up=False)
    write_json(args.json, results)
    Path(args.doc).write_text(render_doc(results))
    if Path(args.doc) == DOC:
        write_json(str(DOC_DATA), for_the_doc(results))
    print(render_table(results))
    print(f"wrote {args.json} and {args.doc}", file=sys.stderr)


def for_the_doc(results: dict[str, Any]) -> dict[str, Any]:
    """What the page shows: everything but the per-request details past the first request."""
    majors = {m: {**r, "per_request": r["per_request"][:1]} for m, r in results["majors"].items()}
    return {**results, "majors": majors}


def render_table(results: dict[str, Any]) -> str:
    lines = [f"{'per request (median)':<36}" + "".join(f"{'sdk ' + m:>16}" for m in results["majors"])]
    for service in ("api", "downstream"):
        rows: dict[str, Callable[[dict[str, Any]], str]] = {
            "items": lambda t: ", ".join(f"{k} {v}" for k, v in t["items"].items()),
            "envelopes": lambda t: str(t["envelopes"]),
            "bytes on the wire (compressed)": lambda t: str(t["bytes"]),
            "bytes (decompressed)": lambda t: str(t["raw_bytes"]),
        }
        for label, get in rows.items():
            cells = [get(r["typical"].get(service, {"items": {}, "envelopes": 0, "bytes": 0, "raw_bytes": 0}))
                     for r in results["majors"].values()]  # fmt: skip
            lines.append(f"{service + ' ' + label:<36}" + "".join(f"{c:>16}" for c in cells))
        cpu = [str(r["cpu_ms_per_request"].get(service)) for r in results["majors"].values()]
        lines.append(f"{service + ' CPU ms per request':<36}" + "".join(f"{c:>16}" for c in cpu))
    return "\n".join(lines)


def _items(typical: dict[str, Any]) -> str:
    return ", ".join(f"{v} `{k}`" for k, v in typical["items"].items())


def _ratio(new: float, old: float) -> str:
    return f"{new / old:.2f} times" if old else "n/a"


def _span_table(spans: list[dict[str, Any]]) -> list[str]:
    rows = ["| segment | op | name | attributes |", "|---|---|---|---|"]
    for s in spans:
        names = ", ".join(f"`{a}`" for a in s["attributes"]) or "-"
        rows.append(f"| {'yes' if s['segment'] else ''} | `{s['op']}` | `{s['name']}` | {names} |")
    return rows


def render_doc(results: dict[str, Any]) -> str:
    majors = results["majors"]
    versions = {m: r["sdk_version"] for m, r in majors.items()}
    out = [
        "# Upgrading to sentry-python 3",
        "",
        f"Generated by `{results['command']}` (bench/sdk_diff.py, `make sdk-diff`) from its own run: do not"
        " edit by hand; the figures are in reports/sdk-diff.json and, committed, in"
        " docs/upgrading-to-sentry-python-3.json. The same scenario ran on sentry-sdk "
        + " and ".join(versions.values())
        + f": {results['requests']} orders (`POST /orders`, api → downstream), each a trace of its own"
        " started with `sentry-trace` and `baggage`, api and downstream as host processes reporting to"
        " one relay-mock. Figures are per request, the median over the requests; an envelope that"
        " batched several traces (logs, metrics) counts toward each by its share of the records. CPU is"
        " each service's CPU time over the requests (the kernel's accounting, 10 ms ticks) divided by"
        " their number.",
        "",
        "## What each request sent",
        "",
        "| | " + " | ".join(f"sentry-sdk {v}" for v in versions.values()) + " |",
        "|---|" + "---|" * len(versions),
    ]
    cell_of: tuple[tuple[str, Callable[[dict[str, Any]], str]], ...]
    for service in ("api", "downstream"):
        cell_of = (
            ("item types (count)", lambda t: ", ".join(f"`{k}` {v}" for k, v in t["items"].items())),
            ("envelopes", lambda t: str(t["envelopes"])),
            ("bytes on the wire (compressed)", lambda t: str(t["bytes"])),
            ("bytes decompressed", lambda t: str(t["raw_bytes"])),
            ("SDK (X-Sentry-Auth)", lambda t: f"`{t.get('sdk')}`"),
        )
        for label, get in cell_of:
            cells = [get(r["typical"][service]) if service in r["typical"] else "nothing" for r in majors.values()]
            out.append(f"| {service}: {label} | " + " | ".join(cells) + " |")
        cpu = [f"{r['cpu_ms_per_request'].get(service)} ms" for r in majors.values()]
        out.append(f"| {service}: CPU per request | " + " | ".join(cpu) + " |")
    if set(majors) == {"2", "3"}:
        out += ["", "In short, per request (3 against 2):", ""]
        for service in ("api", "downstream"):
            two, three = majors["2"]["typical"].get(service), majors["3"]["typical"].get(service)
            if not two or not three:
                continue
            cpu2, cpu3 = (majors[m]["cpu_ms_per_request"].get(service) or 0 for m in ("2", "3"))
            out.append(
                f"- {service}: {_items(two)} became {_items(three)};"
                f" {_ratio(three['bytes'], two['bytes'])} the bytes on the wire"
                f" ({_ratio(three['raw_bytes'], two['raw_bytes'])} decompressed);"
                f" {_ratio(cpu3, cpu2)} the CPU time."
            )
    out += ["", "## Headers, in and out (the first request)", ""]
    for r in majors.values():
        first = r["per_request"][0]
        out += [
            f"**sentry-sdk {r['sdk_version']}**",
            "",
            f"- sent to api: `sentry-trace: {first['in']['sentry-trace']}`, `baggage: {first['in']['baggage']}`",
            f"- api answered: `sentry-trace: {first['out']['sentry-trace']}`, `baggage: {first['out']['baggage']}`",
            "- what each service says it received (`x-sandbox-witness`): "
            + "; ".join(f"{w['service']}: `{w['received']}`" for w in first["witness"]),
            "- the DSC downstream's envelope carried: `"
            + json.dumps(first["arrived"].get("downstream", {}).get("dsc"), sort_keys=True)
            + "`",
            "",
        ]
    out += ["## Spans of a request, by service", ""]
    for r in majors.values():
        for service, typical in r["typical"].items():
            out += [f"### {service} on sentry-sdk {r['sdk_version']}", "", *_span_table(typical["spans"]), ""]
    out += ["## Client reports", ""]
    for r in majors.values():
        reports = r["client_reports"]
        out.append(
            f"- sentry-sdk {r['sdk_version']}: "
            + (
                "; ".join(f"{service}: `{json.dumps(items, sort_keys=True)}`" for service, items in reports.items())
                if reports
                else "none sent during the run"
            )
        )
    out += [
        "",
        "## What changes for the services",
        "",
        "See [services.md](services.md#sentry-python-3): what 3.0 cannot do of the seed; what the services do instead.",
        "",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    main()
