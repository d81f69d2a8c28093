"""Envelopes: list with filters and a cursor, one parsed, its raw bytes, JSONL export, delete all."""

from __future__ import annotations

from collections.abc import AsyncIterator

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from relay_mock import models
from relay_mock.inspection.params import args_of, envelope_filter
from relay_mock.inspection.responses import error, respond
from relay_mock.models import as_json
from relay_mock.store import envelopes
from relay_mock.store.read_pool import Reader

EXPORT_PAGE = 500


async def list_envelopes(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    args = args_of(request)
    result = await reader.run(
        envelopes.list_envelopes,
        envelope_filter(args),
        limit=args.integer("limit"),
        cursor=args.optional_integer("cursor"),
        newest_first=args.get("order") == "desc",
        payloads=args.flag("payloads"),
    )
    return respond(models.EnvelopePage, result)


async def get_envelope(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    envelope_id = request.path_params["envelope_id"]
    envelope = await reader.run(envelopes.get_envelope, envelope_id)
    if envelope is None:
        return error(404, f"no envelope {envelope_id}")
    return respond(models.Envelope, envelope)


async def get_raw(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    envelope_id = request.path_params["envelope_id"]
    download = await reader.run(envelopes.get_download, envelope_id)
    if download is None:
        return error(404, f"no envelope {envelope_id}")
    raw, media_type = download
    return Response(raw, media_type=media_type)


async def export_jsonl(request: Request) -> Response:
    """Every matching envelope, oldest first, one JSON document per line."""
    reader: Reader = request.app.state.reader
    flt = envelope_filter(args_of(request))

    async def lines() -> AsyncIterator[bytes]:
        cursor: int | None = None
        while True:
            page = await reader.run(
                envelopes.list_envelopes, flt, limit=EXPORT_PAGE, cursor=cursor, newest_first=False, payloads=True
            )
            for envelope in page.envelopes:
                yield orjson.dumps(as_json(envelope)) + b"\n"
            cursor = page.next_cursor
            if cursor is None:
                return

    return StreamingResponse(lines(), media_type="application/x-ndjson")


async def delete_all(request: Request) -> Response:
    await request.app.state.writer.clear()
    return respond(models.Deleted, {"deleted": True})
