"""The computing process: reads committed items from SQLite, runs them through Relay's code,
and sends each verdict to the parent, which stores it.

It runs at the lowest CPU priority (nice 19), so under load ingest keeps the cores and the work waits:
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

from relay_mock.relay_view.compute import EVENT_TYPES, Arrival, RelayView, compute
from relay_mock.relay_view.scrubbing import ProjectScrubbing, default_scrubbing
from relay_mock.store.database import connect

BATCH = 100
IDLE_SLEEP_S = 0.05
# An index past any item: "this envelope is done".
WHOLE = 1 << 30

ITEMS_AFTER = (
    "SELECT i.envelope_rowid, i.idx, i.type, e.project_id, e.received_at, e.remote_addr, e.user_agent,"
    " e.sdk_client, substr(e.raw, i.payload_offset + 1, i.payload_length) AS payload"
    " FROM items i JOIN envelopes e ON e.id = i.envelope_rowid"
    " WHERE (i.envelope_rowid, i.idx) > (?, ?) AND i.envelope_rowid <= ?"
    f" AND i.type IN ({','.join(repr(t) for t in EVENT_TYPES)})"
    " ORDER BY i.envelope_rowid, i.idx LIMIT ?"
)


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
    latest: Any,
    current: Any,
    results: Connection,
) -> None:
    """`latest`: the newest committed envelope row id (set by the parent). `current`: the item being
    computed and since when (monotonic), so the parent can enforce the time budget, then the row
    id up to which every envelope is done (the parent's backlog figure)."""
    _lowest_priority()
    parent = os.getppid()
    conn = connect(Path(db_path), readonly=True)
    fallback = default_scrubbing()
    cursor = start_after
    while True:
        top = int(latest.value)
        if cursor[0] >= top and cursor[1] == WHOLE:
            current[3] = top
            if os.getppid() != parent:
                return  # relay-mock was killed (SIGKILL leaves no time to stop us)
            time.sleep(IDLE_SLEEP_S)
            continue
        rows = conn.execute(ITEMS_AFTER, (*cursor, top, BATCH)).fetchall()
        if not rows:
            cursor = (max(cursor[0], top), WHOLE)
            continue
        for row in rows:
            rowid, idx = row["envelope_rowid"], row["idx"]
            current[0], current[1], current[2] = rowid, idx, time.monotonic()
            arrival = Arrival(
                row["project_id"], row["received_at"], row["remote_addr"], row["user_agent"], row["sdk_client"]
            )
            view = compute(bytes(row["payload"]), arrival, scrubbing.get(row["project_id"], fallback))
            current[2] = 0.0
            results.send(verdict_row(rowid, idx, row["project_id"], row["type"], view))
            cursor = (rowid, idx)
            current[3] = rowid - 1  # the envelopes before this one are done


def _lowest_priority() -> None:
    # Nice 19: about 1.5% of a busy core against a normal process, all of an idle one. Not
    # SCHED_IDLE, which would starve the worker outright on a machine that is never idle.
    with contextlib.suppress(OSError):
        os.nice(19)
