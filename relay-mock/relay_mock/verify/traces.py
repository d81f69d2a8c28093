"""The trace queries: one page of trace summaries, one trace, several traces, each a tree
(verify/trace_tree.py) built from the verifier's facts and marked with its findings.

`/inspect/traces`, `/inspect/traces/{trace_id}`, the MCP tools and Spotlight's tools are
adapters over these. The checks are those `run` runs (verify/run.py registers the custom ones);
a trace page reads no logs or metrics, so correlation is not part of a trace's verdict."""

from __future__ import annotations

import asyncio

from relay_mock import models
from relay_mock.store.read_pool import Reader
from relay_mock.store.traces import list_trace_ids
from relay_mock.verify import run as _registered  # noqa: F401  (the custom checks count on trace pages too)
from relay_mock.verify.checks import verify
from relay_mock.verify.collect import Collected, collect
from relay_mock.verify.model import VerifyConfig
from relay_mock.verify.trace_tree import build_trace


async def _verified_trees(reader: Reader, config: VerifyConfig, trace_ids: list[str]) -> dict[str, models.Trace]:
    """The traces as trees, built from the verifier's facts and marked with its findings.

    The verdict is the trace's own: drops are shared out among these traces only, not the
    whole run (`make verify-traces` counts them over the run)."""
    if not trace_ids:
        return {}
    # One trace's page also reads where the other half of a split trace may be (a few bounded
    # queries); a list page does not (its traces' witnesses still name the other halves).
    collected: Collected = await reader.run(
        collect, since=None, until=None, trace_id=None, trace_ids=trace_ids, related=len(trace_ids) == 1
    )
    report = await asyncio.to_thread(
        verify, collected.bundles, client_reports=collected.client_reports, refusals=collected.refusals, config=config
    )
    # An expected trace whose head started a trace of its own holds nothing, yet its page says
    # where the request's spans went.
    split = {f.trace_id for f in report.findings if f.other_trace_id is not None}
    return {
        bundle.trace_id: build_trace(bundle, report)
        for bundle in collected.bundles
        if bundle.transactions or bundle.errors or bundle.trace_id in split
    }


async def trace_page(
    reader: Reader, config: VerifyConfig, *, limit: int, cursor: int | None, project: str | None, since: float | None
) -> models.TracePage:
    """One page of trace summaries, most recently active first."""
    trace_ids, next_cursor = await reader.run(list_trace_ids, limit=limit, cursor=cursor, project=project, since=since)
    trees = await _verified_trees(reader, config, trace_ids)
    traces = []
    for trace_id in trace_ids:
        tree = trees.get(trace_id)
        if tree is None:
            continue
        traces.append(
            models.TraceSummary(
                trace_id=trace_id,
                services=tree.services,
                transactions=tree.transactions,
                errors=tree.error_count,
                start=tree.start,
                duration_ms=tree.duration_ms,
                root=tree.roots[0].description if tree.roots else None,
                complete=tree.complete,
                broken_links=len(tree.broken_links),
                dsc_consistent=tree.dsc_consistent,
                verdict=tree.verification.verdict if tree.verification is not None else None,
            )
        )
    return models.TracePage(traces=traces, next_cursor=next_cursor)


async def load_trace(reader: Reader, config: VerifyConfig, trace_id: str) -> models.Trace | None:
    return (await _verified_trees(reader, config, [trace_id])).get(trace_id)


async def load_traces(reader: Reader, config: VerifyConfig, trace_ids: list[str]) -> dict[str, models.Trace]:
    """Several traces as trees, verified (Spotlight's search_traces needs their spans)."""
    return await _verified_trees(reader, config, trace_ids)
