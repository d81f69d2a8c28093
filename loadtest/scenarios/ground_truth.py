"""Locust's record of every trace it started, sent to relay-mock in batches.

That record is the verifier's ground truth: a trace Locust started that never arrives
counts as lost, not as absent.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from typing import Any

import gevent
import requests

from scenarios import config
from scenarios.tracing import StartedTrace

logger = logging.getLogger(__name__)

FLUSH_EVERY_S = 1.0
BATCH_MAX = 2000
# What each service down the chain said it received (see servicekit/witness.py).
WITNESS_HEADER = "x-sandbox-witness"


def witnesses(headers: Mapping[str, str] | None) -> list[dict[str, Any]] | None:
    """The entries of the response's witness header; None when it carried none (no answer, or
    a service that does not witness): then the verifier relies on the envelopes alone."""
    value = headers.get(WITNESS_HEADER) if headers is not None else None
    if not value:
        return None
    try:
        entries = json.loads(value)
    except ValueError:
        return None
    if not isinstance(entries, list):
        return None
    return [
        _entry(e)
        for e in entries
        if isinstance(e, dict) and isinstance(e.get("service"), str) and isinstance(e.get("received"), str)
    ]


def _entry(raw: dict[str, Any]) -> dict[str, Any]:
    """One witness entry's known keys; `traceparent` and `trace_id` (what came in over W3C, and
    the trace the service's own span joined) only when the service sent them."""
    entry = {"service": raw["service"], "received": raw["received"], "sampled": raw.get("sampled")}
    if isinstance(raw.get("traceparent"), str):
        entry["traceparent"] = raw["traceparent"]
    if "trace_id" in raw and (raw["trace_id"] is None or isinstance(raw["trace_id"], str)):
        entry["trace_id"] = raw["trace_id"]
    return entry


class GroundTruth:
    # Posts with Locust's own `requests` rather than relay_mock.client: the Locust image installs
    # requirements/locust.txt only, and the client would bring httpx, pydantic and orjson (and
    # relay-mock's models) into it for one POST to /inspect/expectations.
    def __init__(self, relay_url: str) -> None:
        self.url = f"{relay_url}/inspect/expectations"
        self._pending: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._session = requests.Session()
        if config.RELAY_INSPECT_TOKEN:  # relay-mock asks for it when its port is published beyond loopback
            self._session.headers["authorization"] = f"Bearer {config.RELAY_INSPECT_TOKEN}"
        self._flusher: gevent.Greenlet | None = None
        self.recorded = 0
        self.failed = 0

    def record(
        self,
        trace: StartedTrace,
        scenario: str,
        *,
        status_code: int,
        outcome: str,
        expect_services: tuple[str, ...] = ("api", "downstream"),
        expect_errors_from: tuple[str, ...] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not config.RECORD_EXPECTATIONS:
            return
        ended_at = time.time()
        reached = status_code > 0  # 0: the request never got an answer, so no service may have seen it
        entry = {
            "trace_id": trace.trace_id,
            "scenario": scenario,
            "started_at": trace.started_at,
            "sampled": trace.sampled,
            "sample_rand": trace.sample_rand,
            "sample_rate": trace.sample_rate,
            "expect_services": list(expect_services) if reached else [],
            "expect_errors_from": list(expect_errors_from) if reached else [],
            # The DSC the head sent in baggage; none when it sent W3C headers only.
            "baggage": trace.baggage if config.PROPAGATION != "w3c" else None,
            "status_code": status_code,
            "outcome": outcome,
            "ended_at": ended_at,
            "witnesses": witnesses(headers) if reached else None,
            # What the head sent: sentry-trace + baggage, traceparent + tracestate, or both.
            "propagation": config.PROPAGATION,
        }
        with self._lock:
            self._pending.append(entry)
        if self._flusher is None:
            self._flusher = gevent.spawn(self._run)

    def flush(self) -> None:
        with self._lock:
            batch, self._pending = self._pending[:BATCH_MAX], self._pending[BATCH_MAX:]
        if not batch:
            return
        try:
            response = self._session.post(self.url, json=batch, timeout=10)
            response.raise_for_status()
            self.recorded += len(batch)
        except requests.RequestException as exc:
            # Keep them for the next attempt: losing ground truth would hide lost traces.
            logger.warning("could not record %d expectations in relay-mock: %s", len(batch), exc)
            with self._lock:
                self._pending[:0] = batch
            self.failed += 1
            raise

    def flush_all(self) -> None:
        for _ in range(100):
            with self._lock:
                if not self._pending:
                    return
            try:
                self.flush()
            except requests.RequestException:
                return

    def _run(self) -> None:
        while True:
            gevent.sleep(FLUSH_EVERY_S)
            try:
                self.flush()
            except requests.RequestException:
                gevent.sleep(FLUSH_EVERY_S)


ground_truth = GroundTruth(config.RELAY_URL)
