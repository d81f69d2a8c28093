"""Statistics: what is stored, what was refused and why, and what the SDKs say they dropped."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.inspection.params import args_of
from relay_mock.inspection.responses import respond
from relay_mock.store import refusals, stats
from relay_mock.store.read_pool import Reader
from relay_mock.store.relay_views import verdict_counts
from relay_mock.store.writer import StoreWriter


async def get_stats(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    writer: StoreWriter = request.app.state.writer
    counters = writer.totals.counters
    totals = models.EnvelopeTotals(
        stored=writer.totals.envelopes,
        bytes=writer.totals.bytes,
        received=counters.get("stored_envelopes", 0),
        evicted=counters.get("evicted_envelopes", 0),
        evicted_bytes=counters.get("evicted_bytes", 0),
        commits=writer.batches,
        mean_commit_group=round(writer.batched / writer.batches, 1) if writer.batches else 0,
        retention=models.Retention(max_envelopes=writer.retention_max_envelopes, max_bytes=writer.retention_max_bytes),
    )
    views = request.app.state.relay_views
    relay = models.RelayViewStats(
        by_project=await reader.run(verdict_counts), pending_envelopes=views.backlog, failed=views.failed
    )
    return respond(models.Stats, await reader.run(stats.counts, envelopes=totals, relay=relay))


async def get_refusals(request: Request) -> Response:
    reader: Reader = request.app.state.reader
    found = await reader.run(refusals.list_refusals, limit=args_of(request).integer("limit"))
    return respond(models.RefusalList, models.RefusalList(refusals=found))
