"""Snapshot every GET answer of relay-mock's inspection API, to show a refactor left its JSON alone.

    .venv/bin/python scripts/api_snapshot.py DATA_DIR OUT.json --send   # fill DATA_DIR, then snapshot
    .venv/bin/python scripts/api_snapshot.py DATA_DIR OUT2.json          # snapshot the same store again
    cmp OUT.json OUT2.json

`--send` starts relay-mock on an empty DATA_DIR and sends it a fixed set: the real sentry-sdk
(sentry_sdk in a process of its own: a two-service trace, a transaction, an error, a message,
logs and metrics), hand-built envelopes (an orphan error, a client report, an error with a
secret that survives scrubbing) and an OTLP JSON request. Without `--send` the script starts
relay-mock on the kept DATA_DIR and reads only.

Every GET operation of the table (relay_mock/inspection/operations.py) is asked, its path
parameters filled from the stored data; the event stream and `wait` are left out (they block).
Each answer is kept as status, content type and body (text, byte for byte); the only values
rewritten are those that change from one run to the next on the same store: `waited_s` (a
measured time) and a relay view's `duration_ms`. Nothing else is normalised, so `cmp` compares.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "relay-mock")]

from relay_mock.inspection.operations import OPERATIONS  # noqa: E402
from tests.relay_http.sdk import run_sdk  # noqa: E402
from tests.relay_http.wire import API, DOWNSTREAM, client_report, event, event_envelope, post_envelope  # noqa: E402
from tests.support.relay_server import RelayMock  # noqa: E402

BLOCKING = {"/inspect/stream", "/inspect/wait"}
# Values measured anew on each read of the same store: the verifier's wait, and how long the
# relay view of an item took to compute.
VOLATILE = re.compile(rb'"(waited_s|duration_ms)":[0-9.eE+-]+')


def send(relay: RelayMock) -> None:
    api_dsn, downstream_dsn = API.dsn(relay.url), DOWNSTREAM.dsn(relay.url)
    head = run_sdk(api_dsn, "head", downstream_dsn=downstream_dsn)
    run_sdk(api_dsn, "head", downstream_dsn=downstream_dsn, orphan=True)
    run_sdk(api_dsn, "transaction", "error", "message", "telemetry")
    run_sdk(downstream_dsn, "error", card="5555", release="downstream@2.0.1")
    with httpx.Client(timeout=10) as http:
        _, body = event_envelope(event(logentry={"message": "an orphan error"}))
        assert post_envelope(http, relay.url, body).status_code == 200
        assert post_envelope(http, relay.url, client_report(("queue_overflow", "transaction", 3))).status_code == 200
        # A secret Relay's scrubbing lets through (a token's shape under a name no scrubber looks for).
        leaky = event(extra={"build_ref": "ghp_" + "A1b2C3d4E5" * 4, "password": "hunter22"})
        assert post_envelope(http, relay.url, event_envelope(leaky)[1]).status_code == 200
        # The traces a load generator would announce: the SDK's two-service trace, with what each
        # service said it received, and one that never arrived.
        witness = {"received": f"{head['trace_id']}-{head['http_client_span']}-1", "service": "downstream"}
        expected = [
            {
                "trace_id": head["trace_id"],
                "scenario": "orders",
                "expect_services": ["api", "downstream"],
                "witnesses": [witness],
                "status_code": 201,
                "outcome": "ok",
            },
            {"trace_id": "5" * 32, "scenario": "orders", "expect_services": ["api", "downstream"]},
        ]
        response = http.post(f"{relay.url}/inspect/expectations", json={"expectations": expected})
        assert response.status_code == 200, response.text
        now = time.time_ns()
        spans = [
            {
                "traceId": "0af7651916cd43dd8448eb211c80319c",
                "spanId": "a1a2a3a4a5a6a7a8",
                "name": "POST /pay",
                "kind": 2,
                "startTimeUnixNano": str(now - 9_000_000),
                "endTimeUnixNano": str(now),
                "status": {"code": 2, "message": "card declined"},
            },
            {
                "traceId": "0af7651916cd43dd8448eb211c80319c",
                "spanId": "b1b2b3b4b5b6b7b8",
                "parentSpanId": "a1a2a3a4a5a6a7a8",
                "name": "ledger write",
                "kind": 3,
                "startTimeUnixNano": str(now - 5_000_000),
                "endTimeUnixNano": str(now - 1_000_000),
            },
        ]
        document = {
            "resourceSpans": [
                {
                    "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "payments"}}]},
                    "scopeSpans": [{"scope": {"name": "payments"}, "spans": spans}],
                }
            ]
        }
        response = http.post(
            f"{relay.url}/api/{API.id}/integration/otlp/v1/traces",
            content=gzip.compress(orjson.dumps(document)),
            headers={
                "x-sentry-auth": f"sentry sentry_key={API.key}",
                "content-type": "application/json",
                "content-encoding": "gzip",
            },
        )
        assert response.status_code == 200, response.text


def paths(http: httpx.Client) -> list[str]:
    """Every GET path, its parameters filled from what is stored."""
    envelopes = http.get("/inspect/envelopes", params={"limit": 1000}).json()["envelopes"]
    traces = http.get("/inspect/traces", params={"limit": 500}).json()["traces"]
    errors = http.get("/inspect/errors").json()["errors"]
    found: list[str] = []
    for operation in OPERATIONS:
        if operation.method != "GET" or operation.path in BLOCKING:
            continue
        path = operation.path
        if "{envelope_id}" in path and "{index" in path:
            found += [
                path.replace("{envelope_id}", e["id"]).replace("{index:int}", str(i))
                for e in envelopes
                for i in range(len(e["items"]))
            ]
        elif "{envelope_id}" in path:
            found += [path.replace("{envelope_id}", e["id"]) for e in envelopes]
        elif "{trace_id}" in path:
            found += [path.replace("{trace_id}", t["trace_id"]) for t in traces]
        elif "{event_id}" in path:
            found += [path.replace("{event_id}", e["event_id"]) for e in errors]
        elif "{" in path:
            raise SystemExit(f"no data to fill {path}: teach scripts/api_snapshot.py")
        else:
            found.append(path)
    # A few query forms the handlers parse on their own.
    found += ["/inspect/traces?limit=2", "/inspect/envelopes?limit=3", "/inspect/envelopes?type=event"]
    found += ["/inspect/verify?deadline=0", "/inspect/logs?level=error", "/inspect/errors?project=downstream"]
    found += ["/inspect/openapi.json"]
    return found


def settled(http: httpx.Client) -> None:
    """Wait (up to 30 s) for the relay-view worker to finish its backlog: its counts are in answers."""
    deadline = time.monotonic() + 30
    while http.get("/inspect/leaks").json()["pending_envelopes"] != 0:
        if time.monotonic() > deadline:
            raise SystemExit("the relay-view worker still has envelopes pending after 30 s")
        time.sleep(0.2)


def snapshot(relay: RelayMock) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    with httpx.Client(base_url=relay.url, timeout=30) as http:
        settled(http)
        for path in paths(http):
            response = http.get(path)
            body = response.content
            body = VOLATILE.sub(rb'"\1":0', body) if path.endswith(("/relay", "/inspect/verify", "=0")) else body
            answers[path] = {
                "status": response.status_code,
                "content_type": response.headers.get("content-type"),
                "x_verify_ok": response.headers.get("x-verify-ok"),
                "body": body.decode("utf-8", errors="replace"),
            }
    return answers


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--send", action="store_true", help="fill an empty DATA_DIR first")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    with RelayMock(args.data_dir) as relay:
        if args.send:
            send(relay)
        answers = snapshot(relay)
    args.out.write_text(json.dumps(answers, indent=1, sort_keys=True) + "\n")
    print(f"{len(answers)} answers written to {args.out}")


if __name__ == "__main__":
    main()
