"""Expectations over HTTP: Locust (or a test) records each trace it started; the
verifier reads them as ground truth. A batch is a models.ExpectationBody, validated before
record runs (operations.py); the model's defaults are what is stored for omitted fields."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.inspection.params import args_of
from relay_mock.inspection.responses import respond
from relay_mock.store import expectations
from relay_mock.store.read_pool import Reader
from relay_mock.store.records import ExpectationRows
from relay_mock.store.writer import StoreWriter
from relay_mock.verify.expectation_rows import from_row

WITNESS_KEYS = ("received", "service", "sampled", "traceparent", "trace_id")


def stored_row(expectation: models.Expectation, now: float) -> tuple[Any, ...]:
    """The store's row of a valid expectation (its omitted fields hold the model's defaults)."""
    e = expectation
    return (
        e.trace_id,
        e.scenario,
        e.started_at if e.started_at is not None else now,
        int(e.sampled is not False),
        e.sample_rand,
        e.sample_rate,
        orjson.dumps(e.expect_services or []).decode(),
        orjson.dumps(e.expect_errors_from or []).decode(),
        orjson.dumps(e.baggage).decode() if e.baggage is not None else None,
        e.status_code,
        e.outcome,
        now,
        e.ended_at or None,
        _witnesses(e.witnesses),
        e.propagation or "sentry",
    )


def _witnesses(witnesses: list[models.Witness] | None) -> str | None:
    if witnesses is None:
        return None
    return orjson.dumps([{key: getattr(w, key) for key in WITNESS_KEYS} for w in witnesses]).decode()


async def record(request: Request) -> Response:
    writer: StoreWriter = request.app.state.writer
    body: list[models.Expectation] | models.ExpectationBatch = request.state.body
    batch = body.expectations if isinstance(body, models.ExpectationBatch) else body
    now = time.time()
    rows = [stored_row(expectation, now) for expectation in batch]
    if rows:
        await writer.record_expectations(ExpectationRows(rows))
    return respond(models.Recorded, {"recorded": len(rows)})


async def list_expectations(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    args = args_of(request)
    rows = await reader.run(
        expectations.expectation_rows,
        since=args.instant("since"),
        until=args.instant("until"),
        trace_id=args.text("trace_id"),
        limit=args.integer("limit"),
    )
    found = [models.Expectation.model_validate(asdict(from_row(row))) for row in rows]
    return respond(models.ExpectationList, models.ExpectationList(expectations=found))
