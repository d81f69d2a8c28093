"""Traces across the Sentry/OpenTelemetry boundary on the real stack (issue 18): compose's `otel`
profile adds catalog, an OpenTelemetry-instrumented service exporting over OTLP/HTTP to
relay-mock, as downstream's next hop (api → downstream → catalog).

1. CATALOG_PROPAGATION=sentry (sentry-sdk's OTLPIntegration): a Locust burst, every sampled trace
   verified, and each that reached catalog crosses all three services;
2. CATALOG_PROPAGATION=w3c (plain OpenTelemetry): each trace that reached catalog splits there,
   is `failed` with the `propagation_format` finding, and both traces link each other;
3. LOCUST_PROPAGATION=w3c (Locust heads the trace with `traceparent` only): api, a Sentry SDK,
   does not continue it; each trace is failed the same way at the first hop;
4. catalog's OTLP log line of a lookup is found by its trace in `/inspect/logs`.

Each judged by `make verify-traces`, as a user runs it, and by relay-mock's inspection API.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from relay_mock.client import RelayClient
from relay_mock.models import Expectation, Trace
from servicekit.witness import WITNESS_HEADER, parse_witnesses
from tests.e2e.test_verify_cases import _findings, _verdicts, _verify_traces
from tests.support.chromium import chromium_page
from tests.support.polling import poll
from tests.support.stack import Stack

pytestmark = [pytest.mark.stack, pytest.mark.slow]

CATALOG_URL = "http://catalog:8002"
CHAIN = ["api", "downstream", "catalog"]  # the witnesses' order (the call chain)
SERVICES = sorted(CHAIN)  # a trace lists its services by name
EXIT_FAILED = 1


def _with(stack: Stack, **env: str) -> Stack:
    return Stack(stack.project, {**stack.env, **env})


def _start_catalog(stack: Stack, propagation: str) -> None:
    started = _with(stack, CATALOG_PROPAGATION=propagation).compose(
        "--profile", "otel", "up", "-d", "--build", "--wait", "--wait-timeout", "240", "catalog", check=False
    )
    if started.returncode != 0:
        logs = stack.compose("--profile", "otel", "logs", "--tail", "60", "catalog", check=False).stdout
        raise AssertionError(f"catalog did not come up ({propagation}):\n{started.stderr}\n{logs}")


@pytest.fixture(scope="module")
def otel(stack: Stack) -> Iterator[None]:
    """catalog (sentry propagation) up, and downstream calling it on every reservation."""
    _start_catalog(stack, "sentry")
    try:
        with stack.reconfigured("downstream", DOWNSTREAM_NEXT_HOP_URL=CATALOG_URL):
            yield
    finally:
        stack.compose("--profile", "otel", "rm", "--stop", "--force", "catalog", check=False)


@contextmanager
def _catalog_propagation(stack: Stack, propagation: str) -> Iterator[None]:
    _start_catalog(stack, propagation)
    try:
        yield
    finally:
        _start_catalog(stack, "sentry")


def _relay(stack: Stack) -> RelayClient:
    return RelayClient(stack.relay_url, timeout=15)


def _burst(stack: Stack, seconds: int = 20, **env: str) -> list[Expectation]:
    """A headless Locust run against api; the expectations it recorded."""
    since = time.time()
    burst = _with(stack, **env).run(
        "locust", "--headless", "-u", "6", "-r", "6", "-t", f"{seconds}s", "--host", "http://api:8000", "--only-summary"
    )
    assert burst.returncode == 0, burst.stdout[-3000:] + burst.stderr[-3000:]
    with _relay(stack) as relay:
        recorded = relay.expectations(since=since, limit=100000)
    assert len(recorded) >= 30, f"Locust recorded {len(recorded)} traces, too few to mean anything"
    return recorded


def _witnessed(expectation: Expectation, service: str) -> Any:
    return next((w for w in expectation.witnesses or () if w.service == service), None)


def _trace(stack: Stack, trace_id: str) -> Trace:
    with _relay(stack) as relay:
        return relay.trace(trace_id)


def _other_traces(trace: Trace) -> set[str]:
    """The traces a trace's broken links point to (the other half of a split)."""
    return {link.other_trace_id for link in trace.broken_links if link.other_trace_id}


def _format_breaks(report: dict[str, Any], trace_id: str) -> list[dict[str, Any]]:
    return [f for f in _findings(report, trace_id) if f["kind"] == "propagation_format"]


def _failing_kinds(report: dict[str, Any], trace_id: str) -> set[str]:
    return {f["kind"] for f in _findings(report, trace_id) if not f["note"] and f["attributed_to"] is None}


def test_sentry_propagation_a_burst_verifies_across_api_downstream_and_catalog(
    stack: Stack, otel: None, tmp_path: Path
) -> None:
    recorded = _burst(stack)
    since = min(e.started_at or time.time() for e in recorded)
    assert {e.propagation for e in recorded} == {"sentry"}

    result, report = _verify_traces(stack, tmp_path, SINCE=str(since))

    verdicts = _verdicts(report)
    sampled = [e for e in recorded if e.sampled]
    not_verified = {e.trace_id: verdicts.get(e.trace_id) for e in sampled if verdicts.get(e.trace_id) != "verified"}
    assert not not_verified, json.dumps([_findings(report, t) for t in list(not_verified)[:3]], indent=1)
    chained = [e for e in sampled if e.scenario == "orders" and e.status_code == 201]
    assert len(chained) >= 10, len(chained)
    for expectation in chained:
        catalog = _witnessed(expectation, "catalog")
        assert catalog is not None, expectation.witnesses  # downstream called catalog, which witnessed
        assert catalog.received and catalog.trace_id == expectation.trace_id, catalog  # and continued it
        trace = _trace(stack, expectation.trace_id)
        assert trace.services == SERVICES, (expectation.trace_id, trace.services)
    # catalog's spans came over OTLP: its server span, and a span per query (SQLAlchemy's).
    catalog_nodes = [n for n in _trace(stack, chained[0].trace_id).nodes() if n.service == "catalog"]
    assert {n.ingest for n in catalog_nodes} == {"otlp"}, catalog_nodes
    ops = {n.op or "" for n in catalog_nodes}
    assert "http.server" in ops and any(op.startswith("db") for op in ops), ops
    assert result.returncode == 0 and report["outcome"] == "PASSED", result.stdout[-4000:]


def test_w3c_catalog_splits_each_trace_and_the_verifier_names_the_format(
    stack: Stack, otel: None, tmp_path: Path
) -> None:
    with _catalog_propagation(stack, "w3c"):
        recorded = _burst(stack, seconds=15)
        since = min(e.started_at or time.time() for e in recorded)
        result, report = _verify_traces(stack, tmp_path, SINCE=str(since))

    verdicts = _verdicts(report)
    sampled = [e for e in recorded if e.sampled]
    split = [e for e in sampled if _witnessed(e, "catalog") is not None]
    assert len(split) >= 10, len(split)
    for expectation in split:
        trace_id = expectation.trace_id
        catalog = _witnessed(expectation, "catalog")
        # catalog got sentry-trace (downstream's SDK sends nothing else) and started its own trace.
        assert catalog.received and catalog.traceparent == "" and catalog.trace_id not in (None, trace_id), catalog
        assert verdicts[trace_id] == "failed", json.dumps(_findings(report, trace_id), indent=1)
        assert _failing_kinds(report, trace_id) == {"propagation_format"}, _findings(report, trace_id)
        (finding,) = _format_breaks(report, trace_id)
        assert "sentry-trace" in finding["message"] and finding["other_trace_id"] == catalog.trace_id, finding
        # Both traces link each other: the caller's broken link names catalog's trace, and back.
        assert catalog.trace_id in _other_traces(_trace(stack, trace_id))
        other = _trace(stack, catalog.trace_id)
        assert other.services == ["catalog"] and trace_id in _other_traces(other), other.broken_links
    # The traces that never reached catalog are not touched by it.
    for expectation in sampled:
        if _witnessed(expectation, "catalog") is None and expectation.status_code:
            assert verdicts[expectation.trace_id] == "verified", _findings(report, expectation.trace_id)
    assert result.returncode == 2 and f"exit status {EXIT_FAILED} " in result.stderr, result.stderr


def test_locust_heading_traces_with_traceparent_splits_them_at_api(stack: Stack, otel: None, tmp_path: Path) -> None:
    recorded = _burst(stack, seconds=15, LOCUST_PROPAGATION="w3c")
    since = min(e.started_at or time.time() for e in recorded)
    assert {e.propagation for e in recorded} == {"w3c"}

    result, report = _verify_traces(stack, tmp_path, SINCE=str(since))

    verdicts = _verdicts(report)
    heads = [e for e in recorded if e.sampled and _witnessed(e, "api") is not None]
    assert len(heads) >= 20, len(heads)
    chained = 0
    for expectation in heads:
        trace_id = expectation.trace_id
        api = _witnessed(expectation, "api")
        assert api.received == "" and api.traceparent.startswith(f"00-{trace_id}-"), api
        assert api.trace_id not in (None, trace_id), api  # sentry-sdk does not read traceparent
        assert verdicts[trace_id] == "failed", json.dumps(_findings(report, trace_id), indent=1)
        # The split is what fails it. (A request that also expected errors, downstream_error's,
        # finds them in api's trace, not here: the verifier may say so too.)
        assert "propagation_format" in _failing_kinds(report, trace_id), _findings(report, trace_id)
        (finding,) = _format_breaks(report, trace_id)
        assert "traceparent" in finding["message"] and finding["other_trace_id"] == api.trace_id, finding
        other = _trace(stack, api.trace_id)
        assert trace_id in _other_traces(other), other.broken_links
        if expectation.scenario == "orders" and expectation.status_code == 201:
            # Past api the chain is Sentry-to-Sentry-to-OTLPIntegration: api's trace crosses all three.
            assert other.services == SERVICES, other.services
            chained += 1
    assert chained >= 5, chained
    assert result.returncode == 2 and f"exit status {EXIT_FAILED} " in result.stderr, result.stderr


def test_catalogs_otlp_log_line_is_found_by_its_trace(stack: Stack, otel: None) -> None:
    trace_id = secrets.token_hex(16)
    response = httpx.post(
        f"{stack.api_url}/orders",
        json={"sku": "SKU-2", "quantity": 1, "customer": "otel-logs"},
        headers={"sentry-trace": f"{trace_id}-{secrets.token_hex(8)}-1"},
        timeout=15,
    )
    assert response.status_code == 201, response.text
    assert [w["service"] for w in parse_witnesses(response.headers.get(WITNESS_HEADER))] == CHAIN

    def catalog_logs() -> Any:
        with _relay(stack) as relay:
            logs = [log for log in relay.logs(trace_id=trace_id, limit=100).logs if log.service == "catalog"]
        return logs or None

    (log,) = poll(catalog_logs, deadline_s=30, what="catalog's OTLP log line")
    assert log.body is not None and log.body.startswith("stock lookup: SKU-2 has "), log
    assert log.attributes is not None and log.attributes.get("sentry.ingest") == "otlp", log.attributes
    assert log.attributes.get("sku") == "SKU-2", log.attributes
    # The line was written inside catalog's server span for the request.
    servers = poll(
        lambda: (
            [n for n in _trace(stack, trace_id).nodes() if n.service == "catalog" and n.op == "http.server"] or None
        ),
        deadline_s=30,
        what="catalog's server span",
    )
    assert log.span_id in {n.span_id for n in servers}, (log.span_id, servers)
    _logs_page_shows(stack, trace_id, "stock lookup: SKU-2 has ")


def _logs_page_shows(stack: Stack, trace_id: str, text: str) -> None:
    """The Logs page, filtered by the trace, lists catalog's OTLP line under catalog (Chromium)."""
    with chromium_page(stack.relay_url) as page:
        page.goto(f"/#/logs?trace_id={trace_id}")
        row = page.locator("table.logs tbody tr", has_text=text)
        expect(row).to_have_count(1, timeout=15_000)
        expect(row).to_contain_text("catalog")
        expect(row).to_have_attribute("data-trace-id", trace_id)


def test_catalogs_health_probes_start_no_trace(stack: Stack, otel: None) -> None:
    """/health is not traced, and its database ping must not start a one-span trace of its own
    (it did: one per container probe, every 2 s, flooding the trace list)."""
    since = time.time()
    probe = "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8002/health').read()"
    for _ in range(3):
        stack.compose("--profile", "otel", "exec", "-T", "catalog", "/opt/venv/bin/python", "-c", probe)
    # A traced request after the probes: once its catalog span arrived, the probes' spans (had
    # there been any) were exported too, by the same batching exporter, no later.
    trace_id = secrets.token_hex(16)
    response = httpx.post(
        f"{stack.api_url}/orders",
        json={"sku": "SKU-2", "quantity": 1, "customer": "otel-probes"},
        headers={"sentry-trace": f"{trace_id}-{secrets.token_hex(8)}-1"},
        timeout=15,
    )
    assert response.status_code == 201, response.text

    def reached_catalog() -> bool | None:
        with _relay(stack) as relay:
            found = relay.traces(since=since, limit=500).traces
        return any(t.trace_id == trace_id and "catalog" in t.services for t in found) or None

    poll(reached_catalog, deadline_s=30, what="catalog's span of the order")

    with _relay(stack) as relay:
        alone = [t for t in relay.traces(since=since, limit=500).traces if t.services == ["catalog"]]
    assert alone == [], [(t.trace_id, t.root) for t in alone]
