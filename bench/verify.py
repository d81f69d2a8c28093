"""`make bench-verify`: how long the trace verifier takes over 100,000 stored envelopes.

Fills a fresh relay-mock store with two-hop traces (api → downstream, captured once from the
real sentry-sdk, then given fresh trace, span and event ids per trace) plus the expectations
a Locust run would have recorded, then times `GET /inspect/verify` end to end: reading the
store, building the facts, checking every trace and answering. Target: under 10 s.

A fifth of the envelopes (`--otlp-share`) come over OTLP: in those traces downstream is an
OpenTelemetry service, and its request's spans are stored the way OTLP ingest stores them
(v2 spans in a `span` item, typed attributes with resource and scope, `sentry.ingest` =
"otlp", no DSC; the OTLP contract's part A), made from the same captured transaction.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import brotli
import sentry_sdk

from bench.envelopes import API_KEY, Captured, capture
from bench.relay import ROOT, _env, free_port, wait_ready, write_json
from relay_mock.client import RelayClient
from relay_mock.sandbox_projects import DOWNSTREAM

DOWNSTREAM_KEY = DOWNSTREAM.public_key
HEX_ID = re.compile(rb"\b[0-9a-f]{32}\b|\b[0-9a-f]{16}\b")


def two_hop_template() -> tuple[bytes, bytes]:
    """The raw (decompressed) envelopes of one api → downstream trace, from the real SDK."""
    headers: dict[str, str] = {}

    def api() -> None:
        with sentry_sdk.start_transaction(op="http.server", name="/orders", source="route"):
            with sentry_sdk.start_span(op="db", name="INSERT INTO orders.orders (id, sku) VALUES ($1, $2)"):
                pass
            with sentry_sdk.start_span(op="http.client", name="POST http://downstream:8001/reservations"):
                headers.update(
                    {"sentry-trace": sentry_sdk.get_traceparent() or "", "baggage": sentry_sdk.get_baggage() or ""}
                )
                time.sleep(0.002)
            with sentry_sdk.start_span(op="db", name="UPDATE orders.orders SET status=$1 WHERE id = $2"):
                pass

    def downstream() -> None:
        transaction = sentry_sdk.continue_trace(headers, op="http.server", name="/reservations")
        with sentry_sdk.start_transaction(transaction):
            with sentry_sdk.start_span(op="db", name="UPDATE inventory.stock SET available=available - $1"):
                pass
            with sentry_sdk.start_span(op="db", name="INSERT INTO inventory.reservations (id) VALUES ($1)"):
                pass

    (api_env,) = capture(api)
    (down_env,) = capture(downstream, dsn_project=2)
    api_raw = _raw(api_env)
    call = next(s for s in _payload(api_raw)["spans"] if s["op"] == "http.client")
    # Captured one after the other, so move downstream's work inside the call that caused it.
    return api_raw, _shifted(_raw(down_env), _seconds(call["start_timestamp"]) + 0.0002)


def otlp_template(down: bytes) -> bytes:
    """downstream's request as an OpenTelemetry service's OTLP export, as relay-mock stores it:
    its server span (the segment) and the spans under it as v2 spans."""
    event = _payload(down)
    trace = event["contexts"]["trace"]
    resource = {
        "service.name": "downstream",
        "service.version": "1.0.0",
        "deployment.environment.name": "sandbox",
        "telemetry.sdk.name": "opentelemetry",
        "telemetry.sdk.language": "python",
        "telemetry.sdk.version": "1.45.0",
    }
    common = {
        "sentry.environment": "sandbox",
        "sentry.release": "1.0.0",
        "service.name": "downstream",
        "otel.scope.version": "0.66b0",
        "sentry.ingest": "otlp",
        **{f"resource.{key}": value for key, value in resource.items()},
    }
    segment = {
        "trace_id": trace["trace_id"],
        "span_id": trace["span_id"],
        "parent_span_id": trace["parent_span_id"],
        "name": "POST /reservations",
        "description": "POST http://downstream:8001/reservations",
        "start_timestamp": _seconds(event["start_timestamp"]),
        "end_timestamp": _seconds(event["timestamp"]),
        "status": "ok",
        "is_segment": True,
        "attributes": _typed(
            {
                **common,
                "sentry.op": "http.server",
                "sentry.status.detail": "ok",
                "otel.kind": "server",
                "otel.scope.name": "opentelemetry.instrumentation.fastapi",
                "http.request.method": "POST",
                "http.route": "/reservations",
                "url.scheme": "http",
                "url.path": "/reservations",
                "server.address": "downstream",
                "server.port": 8001,
                "http.response.status_code": 201,
            }
        ),
        "events": [],
        "links": [],
    }
    children = [
        {
            "trace_id": trace["trace_id"],
            "span_id": span["span_id"],
            "parent_span_id": trace["span_id"],
            "name": span["description"],
            "start_timestamp": _seconds(span["start_timestamp"]),
            "end_timestamp": _seconds(span["timestamp"]),
            "status": "ok",
            "is_segment": False,
            "attributes": _typed(
                {
                    **common,
                    "sentry.op": "db",
                    "sentry.status.detail": "ok",
                    "otel.kind": "client",
                    "otel.scope.name": "opentelemetry.instrumentation.asyncpg",
                    "db.system.name": "postgresql",
                    "db.query.text": span["description"],
                    "db.namespace": "sandbox",
                }
            ),
            "events": [],
            "links": [],
        }
        for span in event["spans"]
    ]
    spans = [segment, *children]
    payload = json.dumps({"items": spans}, separators=(",", ":")).encode()
    item = {
        "type": "span",
        "length": len(payload),
        "item_count": len(spans),
        "content_type": "application/vnd.sentry.items.span.v2+json",
    }
    return b"\n".join([b"{}", json.dumps(item).encode(), payload]) + b"\n"


def _typed(attributes: dict[str, Any]) -> dict[str, Any]:
    kinds = {str: "string", int: "integer", float: "double", bool: "boolean"}
    return {key: {"type": kinds[type(value)], "value": value} for key, value in attributes.items()}


def _payload(raw: bytes) -> dict[str, Any]:
    _, item_header, payload = raw.split(b"\n", 2)
    event: dict[str, Any] = json.loads(payload[: json.loads(item_header)["length"]])
    return event


def _seconds(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _shifted(raw: bytes, start: float) -> bytes:
    """The envelope with its transaction (and spans) moved to begin at `start`."""
    header, item_header, _ = raw.split(b"\n", 2)
    event = _payload(raw)
    delta = start - _seconds(event["start_timestamp"])
    for node in (event, *event["spans"]):
        for key in ("start_timestamp", "timestamp"):
            node[key] = _iso(_seconds(node[key]) + delta)
    payload = json.dumps(event, separators=(",", ":")).encode()
    item = {**json.loads(item_header), "length": len(payload)}
    return b"\n".join([header, json.dumps(item).encode(), payload]) + b"\n"


def _raw(captured: Captured) -> bytes:
    return brotli.decompress(captured.body) if captured.headers.get("content-encoding") == "br" else captured.body


def fresh_ids(api: bytes, down: bytes) -> tuple[bytes, bytes, str]:
    """The same trace with new ids everywhere (same lengths, so item lengths still hold)."""
    mapping: dict[bytes, bytes] = {}

    def swap(match: re.Match[bytes]) -> bytes:
        old = match.group(0)
        if old in (API_KEY.encode(), DOWNSTREAM_KEY.encode()):
            return old
        if old not in mapping:
            mapping[old] = secrets.token_hex(len(old) // 2).encode()
        return mapping[old]

    new_api, new_down = HEX_ID.sub(swap, api), HEX_ID.sub(swap, down)
    trace_id = json.loads(new_api.split(b"\n", 1)[0])["trace"]["trace_id"]
    return new_api, new_down, trace_id


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process has used: on a machine shared with other work the
    wall time grows with the load, this much less."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def over_otlp(n: int, share: float) -> bool:
    """Whether trace n's downstream sends over OTLP: evenly spread, so that `share` of all
    envelopes (two per trace) are OTLP requests."""
    return int((n + 1) * 2 * share) > int(n * 2 * share)


async def fill(data_dir: Path, traces: int, otlp_share: float = 0.0) -> int:
    from relay_mock.ingest import IngestRequest, build_record
    from relay_mock.settings import RelaySettings, load_projects
    from relay_mock.store.records import ExpectationRows
    from relay_mock.store.writer import StoreWriter

    settings = RelaySettings(data_dir=data_dir)
    projects = load_projects({})
    writer = StoreWriter(settings.database_path, retention_max_envelopes=10**9, retention_max_bytes=10**13)
    writer.start()
    api, down = two_hop_template()
    otlp = otlp_template(down)
    otlp_requests = 0
    auth = {1: API_KEY, 2: DOWNSTREAM_KEY}
    started = time.time()
    batch: list = []  # type: ignore[type-arg]
    rows: list[tuple] = []  # type: ignore[type-arg]
    for n in range(traces):
        via_otlp = over_otlp(n, otlp_share)
        otlp_requests += via_otlp
        new_api, new_down, trace_id = fresh_ids(api, otlp if via_otlp else down)
        for project, raw in ((2, new_down), (1, new_api)):
            otel = via_otlp and project == 2
            batch.append(
                build_record(
                    projects,
                    settings,
                    IngestRequest(
                        project_part=str(project),
                        path=f"/api/{project}/integration/otlp/v1/traces/" if otel else f"/api/{project}/envelope/",
                        headers={"x-sentry-auth": f"Sentry sentry_key={auth[project]}, sentry_version=7"},
                        query_string="",
                        body=raw,
                        received_at=started + n * 0.001,
                    ),
                    endpoint="envelope",
                )
            )
        rows.append(
            (
                trace_id,
                "orders",
                started + n * 0.001,
                1,
                None,
                None,
                '["api","downstream"]',
                "[]",
                None,
                201,
                "ok",
                started,
                started + n * 0.001 + 0.05,  # ended_at
                None,  # witnesses: none recorded, as for a caller that does not collect them
                "sentry",  # propagation
            )
        )
        if len(batch) >= 2000:
            await asyncio.gather(*(writer.append(record) for record in batch))
            await writer.record_expectations(ExpectationRows(rows))
            batch, rows = [], []
            print(f"\r  stored {2 * (n + 1):,} envelopes", end="", file=sys.stderr)
    if batch:
        await asyncio.gather(*(writer.append(record) for record in batch))
        await writer.record_expectations(ExpectationRows(rows))
    print(file=sys.stderr)
    await writer.close()
    return otlp_requests


def main() -> None:
    parser = argparse.ArgumentParser(description="time the trace verifier over a large store")
    parser.add_argument("--envelopes", type=int, default=100_000)
    parser.add_argument("--otlp-share", type=float, default=0.2, help="share of the envelopes sent over OTLP")
    parser.add_argument("--json", help="also write the result here")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-verify-"))
    traces = args.envelopes // 2
    print(f"filling a store with {traces:,} two-hop traces ({2 * traces:,} envelopes) ...", file=sys.stderr)
    otlp_requests = asyncio.run(fill(data_dir, traces, args.otlp_share))
    port = free_port()
    relay = subprocess.Popen(
        [sys.executable, "-m", "relay_mock", "serve"],
        cwd=ROOT,
        env={
            **_env(),
            "RELAY_DATA_DIR": str(data_dir),
            "RELAY_PORT": str(port),
            "RELAY_HOST": "127.0.0.1",
            "RELAY_LOG_LEVEL": "WARNING",
        },
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/api/relay/healthcheck/ready/")
        cpu_before = process_cpu_s(relay.pid)
        started = time.perf_counter()
        with RelayClient(f"http://127.0.0.1:{port}", timeout=300) as client:
            verdict = client.verify()
        elapsed = time.perf_counter() - started
        cpu = process_cpu_s(relay.pid) - cpu_before
    finally:
        relay.terminate()
        relay.wait(10)
        subprocess.run(["rm", "-rf", str(data_dir)], check=False)
    body = verdict.model_dump()
    report = body["report"]
    result = {
        "envelopes": 2 * traces,
        "otlp_requests": otlp_requests,
        "traces_checked": report["traces_checked"],
        "seconds": round(elapsed, 2),
        "relay_cpu_seconds": round(cpu, 2),
        "load_average": round(os.getloadavg()[0], 1),
        "ok": body["ok"],
        "failures": report["failures"],
        "verdicts": report["verdicts"],
    }
    print(
        f"verified {result['traces_checked']:,} traces ({result['envelopes']:,} envelopes, {otlp_requests:,} of them"
        f" OTLP requests) in {elapsed:.2f} s, {cpu:.2f} s of relay-mock's CPU (load average"
        f" {result['load_average']}) "
        f"(target: under 10 s); verdict: {'ok' if body['ok'] else 'FAILED'} with {report['failures']} failures;"
        f" traces {report['verdicts']}"
    )
    if args.json:
        write_json(args.json, result)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
