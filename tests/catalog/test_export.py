"""catalog's spans and log lines reach relay-mock over OTLP/HTTP, in both propagation modes, with
the exporters catalog runs in its container (sentry-sdk's OTLPIntegration adds the span exporter
in `sentry` mode; catalog adds it itself in `w3c`), against a relay-mock process that knows
catalog's project (4) and key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from relay_mock.client import RelayClient, RelayError
from relay_mock.models import Trace
from tests.catalog.conftest import DSN
from tests.support.polling import poll
from tests.support.relay_server import RelayMock
from tests.support.stack import ROOT

PARENT = "1b1b1b1b1b1b1b1b"
# A trace of its own per mode: both share the module's relay-mock.
TRACE_IDS = {"sentry": "5a" * 16, "w3c": "6c" * 16}
HEADERS = {
    "sentry": {"sentry-trace": f"{TRACE_IDS['sentry']}-{PARENT}-1"},
    "w3c": {"traceparent": f"00-{TRACE_IDS['w3c']}-{PARENT}-01"},
}


@pytest.fixture(scope="module")
def relay(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayMock]:
    key = DSN.split("//", 1)[1].split("@", 1)[0]
    with RelayMock(
        tmp_path_factory.mktemp("relay"), env={"RELAY_PROJECT_CATALOG": f"http://{key}@relay-mock:9000/4"}
    ) as relay:
        yield relay


@pytest.mark.parametrize("propagation", ["sentry", "w3c"])
def test_spans_and_logs_leave_over_otlp_to_the_dsns_project(relay: RelayMock, propagation: str) -> None:
    trace_id = TRACE_IDS[propagation]
    dsn = DSN.replace("relay.invalid:9000", f"127.0.0.1:{relay.port}")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SENTRY_", "CATALOG_"))},
        "SENTRY_DSN": dsn,
        "CATALOG_PROPAGATION": propagation,
        "ENVIRONMENT": "test",
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "tests.catalog.export_once", json.dumps(HEADERS[propagation])],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200
    assert json.loads(answer["witness"])[0]["trace_id"] == trace_id

    with RelayClient(relay.url) as client:
        trace: Trace = poll(
            lambda: _trace(client, trace_id),
            deadline_s=20,
            what="catalog's trace",
        )
        assert trace.services == ["catalog"]
        (server,) = [n for n in trace.nodes() if n.op == "http.server"]
        assert server.ingest == "otlp" and server.parent_span_id == PARENT
        assert server.resource is not None and server.resource.get("service.name") == "catalog"
        logs = poll(lambda: client.logs(trace_id=trace_id).logs or None, deadline_s=20, what="catalog's log line")
    assert [log.body for log in logs] == ["stock lookup: SKU-1 has 7 available"]
    assert logs[0].span_id == server.span_id and logs[0].service == "catalog"


def _trace(client: RelayClient, trace_id: str) -> Trace | None:
    """The trace once relay-mock has it (404 until then)."""
    try:
        trace = client.trace(trace_id)
    except RelayError as exc:
        if exc.status == 404:
            return None
        raise
    return trace if trace.services else None
