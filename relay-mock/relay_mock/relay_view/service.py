"""The parent's side of the background computation: starts the worker process, tells it what was
committed, stores the verdicts it sends, and enforces the time budget per item.

An item that takes longer than the budget, or kills the worker (native code can crash), is
stored as `failed` with the reason, and a new worker resumes after it: ingest never notices.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

from relay_mock.relay_view import worker
from relay_mock.relay_view.scrubbing import ProjectScrubbing
from relay_mock.store import relay_views
from relay_mock.store.database import connect
from relay_mock.store.records import EnvelopeRecord

logger = logging.getLogger(__name__)

# Verdicts are stored in groups: one statement (one short hold of the write lock) per group.
GROUP_MAX = 200
POLL_S = 1.0
BUSY_POLL_S = 0.02


class RelayViews:
    def __init__(self, path: Path, scrubbing: dict[int, ProjectScrubbing], *, budget_s: float) -> None:
        self.path = path
        self.scrubbing = scrubbing
        self.budget_s = budget_s
        self.computed = 0
        self.failed = 0
        self._ctx = multiprocessing.get_context("spawn")
        self._latest: Any = self._ctx.RawValue("q", 0)
        self._current: Any = self._ctx.RawArray("d", 4)
        self._process: BaseProcess | None = None
        self._results: Connection | None = None
        self._thread: threading.Thread | None = None
        self._closing = threading.Event()
        self._cursor = (0, 0)
        self._working = False
        # Items a worker failed on (stored as failed) that its successor must not retry.
        self._failed_items: set[tuple[int, int]] = set()

    # -- lifecycle (the writer has created the database by now) ---------------------

    def start(self) -> None:
        self._conn = connect(self.path, synchronous="NORMAL")  # derived data: recomputable
        self._cursor = relay_views.last_computed(self._conn) or (0, -1)
        self._latest.value = relay_views.latest_envelope(self._conn)
        self._spawn()
        self._thread = threading.Thread(target=self._run, name="relay-view-results", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._closing.set()
        if self._thread is None:
            return  # never started (RELAY_STORE_VIEW=false)
        self._thread.join()
        self._stop_worker()
        self._conn.close()

    def committed(self, records: list[EnvelopeRecord]) -> None:
        """The writer's on_commit: a number in shared memory, nothing more, on the event loop."""
        self._latest.value = max(self._latest.value, max(r.rowid for r in records))

    @property
    def backlog(self) -> int:
        """Envelopes committed but not yet looked at by the worker."""
        if self._thread is None:
            return 0
        return max(0, int(self._latest.value) - int(self._current[3]))

    # -- the results thread ----------------------------------------------------------

    def _run(self) -> None:
        while not self._closing.is_set():
            group = self._receive()
            if group:
                self._store(group)
            self._supervise()

    def _receive(self) -> list[tuple[Any, ...]]:
        assert self._results is not None
        group: list[tuple[Any, ...]] = []
        try:
            # While the worker works, look often: the budget is checked between polls. Otherwise
            # rarely: this thread shares the GIL with the event loop.
            if self._results.poll(BUSY_POLL_S if self._working else POLL_S):
                while len(group) < GROUP_MAX and self._results.poll(0):
                    message = self._results.recv()
                    if isinstance(message, str):
                        self._working = message == worker.WORKING
                    else:
                        group.extend(message)
        except (EOFError, OSError):
            pass  # the worker died; _supervise restarts it
        return group

    def _store(self, rows: list[tuple[Any, ...]]) -> None:
        try:
            relay_views.store_verdicts(self._conn, rows)
        except Exception:
            logger.exception("storing %d Relay verdicts failed; they are recomputed on read", len(rows))
        self._cursor = (rows[-1][0], rows[-1][1])
        self.computed += len(rows)

    def _supervise(self) -> None:
        process = self._process
        if process is None or self._closing.is_set():
            return
        started = self._current[2]
        over_budget = started and time.monotonic() - started > self.budget_s
        if process.is_alive() and not over_budget:
            return
        rowid, idx = int(self._current[0]), int(self._current[1])
        reason = (
            f"exceeded the time budget of {self.budget_s:g} s (RELAY_STORE_VIEW_BUDGET_S)"
            if over_budget
            else f"the computation ended its process (exit code {process.exitcode})"
        )
        self._stop_worker()  # stores what it had sent before it ended
        if started:
            relay_views.store_failed(self._conn, rowid, idx, reason)
            self._failed_items.add((rowid, idx))  # the next worker resumes after what was stored
            self.failed += 1
            logger.warning("Relay's view of item %d/%d failed: %s", rowid, idx, reason)
        else:
            logger.error("the Relay view worker ended (exit code %s); starting another", process.exitcode)
            self._closing.wait(1.0)  # a worker that cannot start must not be restarted in a tight loop
        self._spawn()

    def _spawn(self) -> None:
        self._working = False
        self._failed_items = {item for item in self._failed_items if item > self._cursor}
        self._current[2] = 0.0
        self._current[3] = self._cursor[0] - 1
        receive, send = self._ctx.Pipe(duplex=False)
        self._process = self._ctx.Process(
            target=worker.run,
            args=(
                str(self.path),
                self.scrubbing,
                self._cursor,
                frozenset(self._failed_items),
                self._latest,
                self._current,
                send,
            ),
            name="relay-view-worker",
            daemon=True,
        )
        self._process.start()
        send.close()
        self._results = receive

    def _stop_worker(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join()
        if self._results is not None:
            # Verdicts the worker sent before it ended.
            leftovers = self._receive_all()
            if leftovers:
                self._store(leftovers)
            self._results.close()
        self._process = None
        self._results = None

    def _receive_all(self) -> list[tuple[Any, ...]]:
        assert self._results is not None
        rows = []
        try:
            while self._results.poll(0):
                message = self._results.recv()
                if not isinstance(message, str):
                    rows.extend(message)
        except (EOFError, OSError):
            pass
        return rows
