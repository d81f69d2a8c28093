"""The single writer: a thread that commits envelopes in groups.

Requests hand their envelope to `append()` and wait. The writer never waits for a group to
gather: an envelope that finds it idle is committed at once (the leader), and everything
that arrives while that commit is on its way to disk queues up and goes out together in the
next one (the followers). After each commit (one fsync for the whole group) it wakes every
waiter. So a lone sender pays one commit per envelope, and a crowd shares one fsync per
group; nobody is acknowledged before their commit is on disk.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from relay_mock.settings import RelaySettings
from relay_mock.store import telemetry
from relay_mock.store.database import connect
from relay_mock.store.filters import CHUNK
from relay_mock.store.records import EnvelopeRecord, ExpectationRows, OutboxChange, RefusalRecord, envelope_id

logger = logging.getLogger(__name__)


@dataclass(slots=True)
class _Clear:
    pass


Operation = EnvelopeRecord | RefusalRecord | ExpectationRows | OutboxChange | _Clear


@dataclass(slots=True)
class _Pending:
    op: Operation
    future: asyncio.Future[Any] | None


@dataclass
class Totals:
    envelopes: int = 0
    bytes: int = 0
    counters: dict[str, int] = field(default_factory=dict)


class StoreWriter:
    def __init__(
        self,
        path: Path,
        *,
        retention_max_envelopes: int,
        retention_max_bytes: int,
        batch_max: int = 1024,
        synchronous: str = "FULL",
        on_commit: Callable[[list[EnvelopeRecord]], None] | None = None,
        forwarded: frozenset[int] = frozenset(),
    ) -> None:
        self.path = path
        # Projects whose envelopes are queued for forwarding, in the commit that stores them.
        self.forwarded = forwarded
        self.retention_max_envelopes = retention_max_envelopes
        self.retention_max_bytes = retention_max_bytes
        self.batch_max = batch_max
        self.synchronous = synchronous
        self.batches = 0  # commits so far, and the operations they carried (mean group size)
        self.batched = 0
        self.on_commit = on_commit
        self.totals = Totals()
        self._pending: list[_Pending] = []
        self._cond = threading.Condition()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conn: sqlite3.Connection | None = None
        self._next_id = 1

    @classmethod
    def from_settings(
        cls,
        settings: RelaySettings,
        on_commit: Callable[[list[EnvelopeRecord]], None] | None = None,
        forwarded: frozenset[int] = frozenset(),
    ) -> StoreWriter:
        return cls(
            settings.database_path,
            retention_max_envelopes=settings.retention_max_envelopes,
            retention_max_bytes=settings.retention_max_bytes,
            batch_max=settings.commit_batch_max,
            synchronous=settings.synchronous,
            on_commit=on_commit,
            forwarded=forwarded,
        )

    # -- lifecycle -----------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._conn = connect(self.path, synchronous=self.synchronous)
        self._load_totals(self._conn)
        # A send that was under way when relay-mock stopped may have arrived: if it is sent again,
        # that is counted as a possible duplicate.
        self._conn.execute("UPDATE outbox SET uncertain = 1, in_flight = 0 WHERE in_flight = 1")
        self._thread = threading.Thread(target=self._run, name="relay-store-writer", daemon=True)
        self._thread.start()

    async def close(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify()
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        if self._conn is not None:
            self._conn.close()

    # -- API for the event loop ---------------------------------------------------

    async def append(self, record: EnvelopeRecord) -> int:
        """Store an envelope; returns its row id once the commit is on disk."""
        return int(await self._submit(record))

    def record_refusal(self, refusal: RefusalRecord) -> None:
        """Queue a refusal; the refused client is not kept waiting for it."""
        self._enqueue(_Pending(refusal, None))

    async def record_expectations(self, batch: ExpectationRows) -> None:
        await self._submit(batch)

    async def change_outbox(self, change: OutboxChange) -> None:
        """Record what the forwarder did; returns once it is committed."""
        await self._submit(change)

    async def clear(self) -> None:
        await self._submit(_Clear())

    async def _submit(self, op: Operation) -> Any:
        assert self._loop is not None, "start() the writer first"
        future: asyncio.Future[Any] = self._loop.create_future()
        self._enqueue(_Pending(op, future))
        return await future

    def _enqueue(self, pending: _Pending) -> None:
        with self._cond:
            if self._closing:
                raise RuntimeError("the store is closing")
            self._pending.append(pending)
            if len(self._pending) == 1 or len(self._pending) >= self.batch_max:
                self._cond.notify()  # the writer sleeps only when nothing is pending

    # -- the writer thread --------------------------------------------------------

    def _run(self) -> None:
        assert self._conn is not None
        conn = self._conn
        while True:
            with self._cond:
                while not self._pending and not self._closing:
                    self._cond.wait()
                if not self._pending and self._closing:
                    return
                batch = self._pending[: self.batch_max]
                del self._pending[: self.batch_max]
            self.batches += 1
            self.batched += len(batch)
            try:
                results = self._write(conn, batch)
                errors: list[BaseException | None] = [None] * len(batch)
            except Exception:
                logger.exception("group commit of %d operations failed; retrying one by one", len(batch))
                results, errors = [], []
                for pending in batch:
                    try:
                        results.extend(self._write(conn, [pending]))
                        errors.append(None)
                    except Exception as exc:  # noqa: BLE001
                        results.append(None)
                        errors.append(exc)
            assert self._loop is not None
            self._loop.call_soon_threadsafe(self._settle, batch, results, errors)

    def _write(self, conn: sqlite3.Connection, batch: list[_Pending]) -> list[Any]:
        next_id, totals = self._next_id, (self.totals.envelopes, self.totals.bytes)
        counters = dict(self.totals.counters)
        try:
            conn.execute("BEGIN IMMEDIATE")
            results: list[Any] = []
            envelopes: list[EnvelopeRecord] = []
            refusals: list[RefusalRecord] = []
            for pending in batch:
                op = pending.op
                if isinstance(op, EnvelopeRecord):
                    op.rowid = self._next_id
                    op.envelope_id = envelope_id(op.rowid)
                    self._next_id += 1
                    envelopes.append(op)
                    results.append(op.rowid)
                elif isinstance(op, RefusalRecord):
                    refusals.append(op)
                    results.append(None)
                elif isinstance(op, ExpectationRows):
                    conn.executemany(
                        "INSERT OR REPLACE INTO expectations (trace_id, scenario, started_at, sampled, sample_rand,"
                        " sample_rate, expect_services, expect_errors_from, baggage, status_code, outcome,"
                        " recorded_at, ended_at, witnesses, propagation) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                        op.rows,
                    )
                    results.append(len(op.rows))
                elif isinstance(op, OutboxChange):
                    self._flush(conn, envelopes, refusals)  # a change may name an envelope of this batch
                    envelopes, refusals = [], []
                    self._change_outbox(conn, op)
                    results.append(None)
                else:
                    self._flush(conn, envelopes, refusals)
                    envelopes, refusals = [], []
                    self._clear(conn)
                    results.append(None)
            self._flush(conn, envelopes, refusals)
            self._enforce_retention(conn)
            conn.execute("COMMIT")
            return results
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._next_id, (self.totals.envelopes, self.totals.bytes) = next_id, totals
            self.totals.counters = counters
            raise

    def _flush(self, conn: sqlite3.Connection, envelopes: list[EnvelopeRecord], refusals: list[RefusalRecord]) -> None:
        if envelopes:
            _insert_rows(
                conn,
                "INSERT INTO envelopes (id, envelope_id, received_at, project_id, project, public_key, auth_form,"
                " sdk_client, endpoint, path, content_encoding, compressed_size, raw_size, user_agent, remote_addr,"
                " event_id, trace_id, header, item_types, raw) VALUES ",
                [
                    (
                        r.rowid,
                        r.envelope_id,
                        r.received_at,
                        r.project_id,
                        r.project,
                        r.public_key,
                        r.auth_form,
                        r.sdk_client,
                        r.endpoint,
                        r.path,
                        r.content_encoding,
                        r.compressed_size,
                        len(r.raw),
                        r.user_agent,
                        r.remote_addr,
                        r.event_id,
                        r.trace_id,
                        orjson.dumps(r.header).decode(),
                        ",".join(i.type for i in r.items),
                        r.raw,
                    )
                    for r in envelopes
                ],
            )
            _insert_rows(
                conn,
                "INSERT INTO items (envelope_rowid, idx, type, payload_offset, payload_length, event_id, trace_id,"
                " span_id, parent_span_id, name, op, status, release, environment, server_name, level, sdk_name,"
                " sdk_version, start_ts, end_ts, summary, problem) VALUES ",
                [
                    (
                        r.rowid,
                        i.idx,
                        i.type,
                        i.offset,
                        i.length,
                        i.event_id,
                        i.trace_id,
                        i.span_id,
                        i.parent_span_id,
                        i.name,
                        i.op,
                        i.status,
                        i.release,
                        i.environment,
                        i.server_name,
                        i.level,
                        i.sdk_name,
                        i.sdk_version,
                        i.start_ts,
                        i.end_ts,
                        orjson.dumps(i.summary).decode() if i.summary is not None else None,
                        i.problem,
                    )
                    for r in envelopes
                    for i in r.items
                ],
            )
            _insert_rows(conn, telemetry.INSERT, telemetry.rows(envelopes))
            if self.forwarded:
                self._queue_forwarding(conn, envelopes)
            self.totals.envelopes += len(envelopes)
            self.totals.bytes += sum(len(r.raw) for r in envelopes)
            self._bump(conn, "stored_envelopes", len(envelopes))
        if refusals:
            conn.executemany(
                "INSERT INTO refusals (received_at, status, reason, detail, injected, project_id, public_key, path,"
                " size, user_agent, remote_addr, item_types) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [
                    (
                        f.received_at,
                        f.status,
                        f.reason,
                        f.detail,
                        int(f.injected),
                        f.project_id,
                        f.public_key,
                        f.path,
                        f.size,
                        f.user_agent,
                        f.remote_addr,
                        f.item_types,
                    )
                    for f in refusals
                ],
            )

    def _queue_forwarding(self, conn: sqlite3.Connection, envelopes: list[EnvelopeRecord]) -> None:
        """The outbox rows of the forwarded envelopes: in this commit, so an acknowledged
        envelope is never lost to forwarding, whatever happens after the 200."""
        # Not what came through Spotlight's /stream: an SDK sending there sends to its DSN as well, so
        # forwarding it too would put every envelope upstream twice.
        queued = [r for r in envelopes if r.project_id in self.forwarded and r.endpoint != "stream"]
        _insert_rows(
            conn,
            "INSERT INTO outbox (envelope_rowid, project_id, state, queued_at, next_at, updated_at) VALUES ",
            [(r.rowid, r.project_id, "pending", r.received_at, r.received_at, r.received_at) for r in queued],
        )
        per_project: dict[int, int] = {}
        for r in queued:
            per_project[r.project_id] = per_project.get(r.project_id, 0) + 1
        for project_id, count in per_project.items():
            self._bump(conn, f"forward.queued.{project_id}", count)

    def _change_outbox(self, conn: sqlite3.Connection, change: OutboxChange) -> None:
        now = time.time()
        if change.errors:
            conn.executemany(
                "INSERT OR REPLACE INTO forward_errors (project_id, at, detail) VALUES (?, ?, ?)",
                [(project_id, at, detail) for project_id, (at, detail) in change.errors.items()],
            )
        for start in range(0, len(change.rowids), CHUNK):
            chunk = change.rowids[start : start + CHUNK]
            marks = ",".join("?" * len(chunk))
            if change.begin:
                conn.execute(
                    f"UPDATE outbox SET in_flight = 1, attempts = attempts + 1, updated_at = ?"
                    f" WHERE envelope_rowid IN ({marks}) AND state = 'pending'",
                    [now, *chunk],
                )
                continue
            changed = conn.execute(
                f"UPDATE outbox SET state = ?, next_at = coalesce(?, next_at), status = coalesce(?, status),"
                f" detail = coalesce(?, detail), in_flight = 0, uncertain = max(uncertain, ?), updated_at = ?"
                f" WHERE envelope_rowid IN ({marks}) AND state = 'pending'"
                f" RETURNING project_id, uncertain",
                [change.state, change.next_at, change.status, change.detail, int(change.uncertain), now, *chunk],
            ).fetchall()
            bumps: dict[str, int] = {}
            for project_id, uncertain in changed:
                names = []
                if change.state != "pending":
                    names.append(f"forward.{change.state}.{project_id}")
                if change.state == "sent" and uncertain:
                    names.append(f"forward.duplicates.{project_id}")
                if change.status is not None:
                    names.append(f"forward.status.{change.status}.{project_id}")
                for name in names:
                    bumps[name] = bumps.get(name, 0) + 1
            for name, amount in bumps.items():
                self._bump(conn, name, amount)

    def _enforce_retention(self, conn: sqlite3.Connection) -> None:
        excess_count = self.totals.envelopes - self.retention_max_envelopes
        excess_bytes = self.totals.bytes - self.retention_max_bytes
        if excess_count <= 0 and excess_bytes <= 0:
            return
        cut, dropped, freed = 0, 0, 0
        rows = conn.execute("SELECT id, raw_size FROM envelopes ORDER BY id")
        for row_id, size in rows:
            if dropped >= excess_count and freed >= excess_bytes:
                break
            cut, dropped, freed = row_id, dropped + 1, freed + size
        rows.close()
        # A forwarded envelope retention evicts before the upstream took it can no longer be
        # sent: it is counted as expired (and as evicted, to say why), never left pending.
        for project_id, unsent in conn.execute(
            "SELECT project_id, count(*) FROM outbox WHERE envelope_rowid <= ? AND state = 'pending'"
            " GROUP BY project_id",
            (cut,),
        ).fetchall():
            self._bump(conn, f"forward.expired.{project_id}", unsent)
            self._bump(conn, f"forward.evicted.{project_id}", unsent)
        conn.execute("DELETE FROM outbox WHERE envelope_rowid <= ?", (cut,))
        conn.execute("DELETE FROM items WHERE envelope_rowid <= ?", (cut,))
        conn.execute("DELETE FROM telemetry WHERE envelope_rowid <= ?", (cut,))
        conn.execute("DELETE FROM envelopes WHERE id <= ?", (cut,))
        self.totals.envelopes -= dropped
        self.totals.bytes -= freed
        self._bump(conn, "evicted_envelopes", dropped)
        self._bump(conn, "evicted_bytes", freed)

    def _clear(self, conn: sqlite3.Connection) -> None:
        for table in ("items", "telemetry", "outbox", "envelopes", "refusals", "expectations", "counters"):
            conn.execute(f"DELETE FROM {table}")
        conn.execute("DELETE FROM forward_errors")  # the forwarding counters' last errors go with them
        self.totals = Totals()

    def _bump(self, conn: sqlite3.Connection, name: str, amount: int) -> None:
        conn.execute(
            "INSERT INTO counters (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
            (name, amount),
        )
        self.totals.counters[name] = self.totals.counters.get(name, 0) + amount

    def _load_totals(self, conn: sqlite3.Connection) -> None:
        count, size, max_id = conn.execute(
            "SELECT count(*), coalesce(sum(raw_size), 0), coalesce(max(id), 0) FROM envelopes"
        ).fetchone()
        self.totals = Totals(
            count, size, {name: value for name, value in conn.execute("SELECT name, value FROM counters")}
        )
        self._next_id = max_id + 1

    # -- back on the event loop ---------------------------------------------------

    def _settle(self, batch: list[_Pending], results: list[Any], errors: list[BaseException | None]) -> None:
        committed: list[EnvelopeRecord] = []
        for pending, result, error in zip(batch, results, errors, strict=True):
            if error is None and isinstance(pending.op, EnvelopeRecord):
                committed.append(pending.op)
            future = pending.future
            if future is None or future.done():
                continue
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)
        if committed and self.on_commit is not None:
            self.on_commit(committed)


# SQLite's limit on bound parameters per statement (SQLITE_MAX_VARIABLE_NUMBER since 3.32).
_MAX_PARAMETERS = 32_000


def _insert_rows(conn: sqlite3.Connection, insert: str, rows: list[tuple[Any, ...]]) -> None:
    """Insert many rows with few statements.

    executemany() runs one statement per row, and each run releases and retakes the GIL: with
    the event loop busy on the other side of the GIL, every retake can wait a whole switch
    interval (5 ms), so a group of a hundred envelopes took longer to write than to receive.
    A multi-row VALUES list is one step for many rows.
    """
    if not rows:
        return
    width = len(rows[0])
    per_statement = max(1, _MAX_PARAMETERS // width)
    group = "(" + ",".join("?" * width) + ")"
    for start in range(0, len(rows), per_statement):
        chunk = rows[start : start + per_statement]
        conn.execute(insert + ",".join([group] * len(chunk)), [value for row in chunk for value in row])
