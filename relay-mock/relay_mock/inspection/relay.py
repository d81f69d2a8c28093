"""What Sentry would store: one item through Relay's normalization and scrubbing; the leaks report."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.inspection.operations import MAX_INDEX
from relay_mock.inspection.params import args_of
from relay_mock.inspection.responses import error, respond
from relay_mock.relay_view.item_view import NotFound, item_view
from relay_mock.store.read_pool import Reader
from relay_mock.store.relay_views import list_leaks


async def get_item_view(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    args = args_of(request)
    envelope_id = args.text("envelope_id")
    index = args.integer("index")
    if index > MAX_INDEX:  # beyond SQLite's integers: no such item either
        return error(404, f"no item {index} in envelope {envelope_id}")
    try:
        view = await reader.run(item_view, envelope_id, index, request.app.state.relay_views.scrubbing)
    except NotFound as exc:
        return error(404, str(exc))
    return respond(models.ItemView, view)


async def get_leaks(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    args = args_of(request)
    backlog = request.app.state.relay_views.backlog
    return respond(
        models.LeakReport,
        await reader.run(
            list_leaks, limit=args.integer("limit"), project=args.text("project"), pending_envelopes=backlog
        ),
    )
