"""Statistics: what is stored, what was refused and why, and what the SDKs say they dropped."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.inspection.params import int_param
from relay_mock.inspection.responses import respond
from relay_mock.store import refusals, stats
from relay_mock.store.read_pool import Reader
from relay_mock.store.relay_views import verdict_counts
from relay_mock.store.writer import StoreWriter


async def get_stats(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    writer: StoreWriter = request.app.state.writer
    counters = writer.totals.counters
    result = await reader.run(stats.counts)
    result["envelopes"] = {
        "stored": writer.totals.envelopes,
        "bytes": writer.totals.bytes,
        "received": counters.get("stored_envelopes", 0),
        "evicted": counters.get("evicted_envelopes", 0),
        "evicted_bytes": counters.get("evicted_bytes", 0),
        "commits": writer.batches,
        "mean_commit_group": round(writer.batched / writer.batches, 1) if writer.batches else 0,
        "retention": {
            "max_envelopes": writer.retention_max_envelopes,
            "max_bytes": writer.retention_max_bytes,
        },
    }
    views = request.app.state.relay_views
    result["relay"] = {
        "by_project": await reader.run(verdict_counts),
        "pending_envelopes": views.backlog,
        "failed": views.failed,
    }
    return respond(models.Stats, result)


async def get_refusals(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    limit = int_param(request, "limit", 100, low=1, high=10_000) or 100
    return respond(models.RefusalList, {"refusals": await reader.run(refusals.list_refusals, limit=limit)})
