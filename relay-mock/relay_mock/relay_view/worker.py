"""The computing process: reads committed items from SQLite, runs them through Relay's code,
and sends each verdict to the parent, which stores it.

It runs at the lowest CPU priority (SCHED_IDLE), so under load ingest keeps the cores and the work waits:
the backlog is the store itself (bounded by retention), never a queue in memory. It never
writes to the database: a process the scheduler starves must not hold SQLite's write lock.
"""

from __future__ import annotations

import contextlib
import os
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import orjson

from relay_mock.relay_view.compute import EVENT_TYPES, ItemContext, RelayView, compute
from relay_mock.relay_view.scrubbing import ProjectScrubbing, default_scrubbing
from relay_mock.store.database import connect
from relay_mock.store.relay_views import items_after

BATCH = 100
# Above this many envelopes a second, ingest is in a burst (a load test): the worker waits, reading
# nothing and computing nothing, until the rate drops. Below it the verdicts keep up live.
BUSY_PER_S = 200
RATE_WINDOW_S = 0.25
# What the worker tells the parent besides verdicts: it polls its end of the pipe often only
# while the worker works, and otherwise leaves relay-mock's process (and its GIL) alone.
WORKING, IDLE = "working", "idle"
# Verdicts travel to the parent in groups of up to this many, at least this often.
SEND_MAX = 100
SEND_EVERY_S = 0.5
IDLE_SLEEP_S = 0.05
# An index past any item: "this envelope is done".
WHOLE = 1 << 30


def verdict_row(rowid: int, idx: int, project_id: int, item_type: str, view: RelayView) -> tuple[Any, ...]:
    return (
        rowid,
        idx,
        project_id,
        item_type,
        view.verdict,
        len(view.errors),
        view.scrubbed,
        orjson.dumps(view.leaks).decode() if view.leaks else None,
        view.detail,
        view.duration_ms,
    )


def run(
    db_path: str,
    scrubbing: dict[int, ProjectScrubbing],
    start_after: tuple[int, int],
    skip: frozenset[tuple[int, int]],
    latest: Any,
    current: Any,
    results: Connection,
) -> None:
    """`latest`: the newest committed envelope row id (set by the parent). `current`: the item being
    computed and since when (monotonic), so the parent can enforce the time budget, then the row
    id up to which every envelope is done (the parent's backlog figure). `skip`: items earlier
    workers failed on (the parent stored those). Verdicts go to the parent in groups, so
    its thread (in relay-mock's process, sharing the event loop's GIL) wakes rarely."""
    _lowest_priority()
    parent = os.getppid()
    conn = connect(Path(db_path), readonly=True)
    fallback = default_scrubbing()
    cursor = start_after
    group: list[tuple[Any, ...]] = []
    sent_at = time.monotonic()
    burst = _Burst(latest)
    working = False  # whether the parent was told so: it then watches the budget closely
    while True:
        top = int(latest.value)
        caught_up = cursor[0] >= top and cursor[1] == WHOLE
        if caught_up or burst.on():
            if group:
                results.send(group)
                group, sent_at = [], time.monotonic()
            if working:
                results.send(IDLE)
                working = False
            if caught_up:
                current[3] = top
            if os.getppid() != parent:
                return  # relay-mock was killed (SIGKILL leaves no time to stop us)
            time.sleep(IDLE_SLEEP_S)
            continue
        rows = items_after(conn, cursor, up_to=top, types=EVENT_TYPES, limit=BATCH)
        if not rows:
            cursor = (max(cursor[0], top), WHOLE)
            continue
        if not working:
            results.send(WORKING)
            working = True
        for item in rows:
            if burst.on():
                break  # the rest of these rows is read again after the burst
            rowid, idx = item.envelope_rowid, item.idx
            cursor = (rowid, idx)
            if cursor in skip:
                continue
            current[0], current[1], current[2] = rowid, idx, time.monotonic()
            context = ItemContext(item.project_id, item.received_at, item.remote_addr, item.user_agent, item.sdk_client)
            view = compute(bytes(item.payload), context, scrubbing.get(item.project_id, fallback))
            current[2] = 0.0
            group.append(verdict_row(rowid, idx, item.project_id, item.type, view))
            if len(group) >= SEND_MAX or time.monotonic() - sent_at > SEND_EVERY_S:
                results.send(group)
                group, sent_at = [], time.monotonic()
                current[3] = rowid - 1  # the envelopes before this one are done


class _Burst:
    """Whether envelopes are arriving faster than BUSY_PER_S, over the last RATE_WINDOW_S."""

    def __init__(self, latest: Any) -> None:
        self.latest = latest
        self.since = time.monotonic()
        self.count_then = int(latest.value)
        self.busy = False

    def on(self) -> bool:
        now = time.monotonic()
        if now - self.since >= RATE_WINDOW_S:
            count = int(self.latest.value)
            self.busy = (count - self.count_then) / (now - self.since) > BUSY_PER_S
            self.since, self.count_then = now, count
        return self.busy


def _lowest_priority() -> None:
    # SCHED_IDLE: only CPU time nobody else wants, and a normal task that wakes up takes the core
    # at once. Nice 19 is not enough: the scheduler lets a niced task finish its slice (up to a
    # few ms) before a waking server gets the core back, which showed in ingest's p50
    # (docs/benchmarks.md). Where SCHED_IDLE is not allowed, nice 19.
    try:
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            os.nice(19)
