"""Expectations over HTTP: Locust (or a test) records each trace it started; the
verifier reads them as ground truth."""

from __future__ import annotations

from dataclasses import asdict

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.expectations import ExpectationError, parse_batch
from relay_mock.inspection.params import hex_param, int_param, json_body, time_param
from relay_mock.inspection.responses import error, respond
from relay_mock.store import expectations
from relay_mock.store.read_pool import Reader
from relay_mock.store.records import ExpectationRows
from relay_mock.store.writer import StoreWriter
from relay_mock.verify.expectation_rows import from_row


async def record(request: Request) -> Response:
    writer: StoreWriter = request.app.state.writer
    body = await json_body(request)
    try:
        rows = parse_batch(body)
    except ExpectationError as exc:
        return error(422, f"invalid {exc.where}", exc.message)
    if rows:
        await writer.record_expectations(ExpectationRows(rows))
    return respond(models.Recorded, {"recorded": len(rows)})


async def list_expectations(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    rows = await reader.run(
        expectations.expectation_rows,
        since=time_param(request, "since"),
        until=time_param(request, "until"),
        trace_id=hex_param(request, "trace_id", 32),
        limit=int_param(request, "limit", 1000, low=1, high=1_000_000),
    )
    found = [models.Expectation.model_validate(asdict(from_row(row))) for row in rows]
    return respond(models.ExpectationList, models.ExpectationList(expectations=found))
