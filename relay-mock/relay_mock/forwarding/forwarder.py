"""The forwarder: an asyncio task in relay-mock's process that reads due envelopes from the
outbox and sends them upstream. It is never on the acknowledgement path: ingest only waits for
the commit that stores an envelope and its outbox row; the forwarder finds the row afterwards.

Each round reads up to BATCH due rows, marks those it will send as in flight (committed before
any byte leaves, so a crash mid-send is known on restart: the next send of the envelope counts as
a possible duplicate), sends them with bounded concurrency, and commits every outcome through the
writer. Only the configured upstreams are contacted: the URL comes from RELAY_FORWARD alone.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from relay_mock import __version__
from relay_mock.forwarding import http
from relay_mock.forwarding.limits import ALL, UpstreamState, backoff, parse_rate_limits
from relay_mock.forwarding.rewrite import categories, encode, otlp_request, rewrite
from relay_mock.settings import Project, Upstream
from relay_mock.store import outbox
from relay_mock.store.outbox import Due
from relay_mock.store.read_pool import Reader
from relay_mock.store.records import OutboxChange
from relay_mock.store.writer import StoreWriter

logger = logging.getLogger(__name__)

BATCH = 256
CONCURRENCY = 32
# Ingest first: while more ingest requests than this are being handled (a burst), a round waits,
# for up to INGEST_FIRST_MAX_S, so forwarding takes little from the acknowledgements' event loop.
# SDK transports send one envelope at a time, so a few services stay far below it.
BUSY_INGEST_REQUESTS = 8
INGEST_FIRST_MAX_S = 1.0
BURST_BATCH = 64  # a round's size while a burst goes on
IDLE_CHECK_S = 30.0  # a pending row's time comes without a commit to wake us: look at least this often
DETAIL_MAX = 2000  # an upstream's answer kept with a rejection, at most


ENVELOPE_TYPE = "application/x-sentry-envelope"


@dataclass(frozen=True)
class Prepared:
    """A request as it is sent upstream."""

    body: bytes
    encoding: str | None  # its Content-Encoding (None: plain)
    content_type: str
    path: str


@dataclass(frozen=True)
class Outcome:
    state: str  # pending (try again at next_at) | sent | rejected | expired
    status: int | None = None
    detail: str | None = None
    next_at: float | None = None
    uncertain: bool = False


class Forwarder:
    def __init__(
        self,
        upstreams: dict[int, Upstream],
        projects: dict[int, Project],
        writer: StoreWriter,
        reader: Reader,
        *,
        max_age_s: float,
        concurrency: int = CONCURRENCY,
        ingest_in_flight: Callable[[], int] = lambda: 0,
    ) -> None:
        self.ingest_in_flight = ingest_in_flight
        self.upstreams = upstreams
        self.writer = writer
        self.reader = reader
        self.max_age_s = max_age_s
        self.concurrency = concurrency
        # A sandbox key of a forwarded project → that project's upstream (for the DSC's public_key).
        self.sandbox_keys = {projects[pid].public_key: up for pid, up in upstreams.items() if pid in projects}
        self.states: dict[str, UpstreamState] = defaultdict(UpstreamState)
        # The last error per project (when, what); kept in the store with the outcome it came
        # with (`_record`), and read back at start, so that it survives a restart.
        self.last_error: dict[int, tuple[float, str]] = {}
        self._new_errors: dict[int, tuple[float, str]] = {}
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # One connection pool per upstream host, made from RELAY_FORWARD alone.
        self._hosts: dict[str, http.Upstream] = {}
        for upstream in upstreams.values():
            if upstream.netloc not in self._hosts:
                parts = urlsplit(f"//{upstream.netloc}")
                assert parts.hostname is not None  # settings.load_forwarding checked it
                self._hosts[upstream.netloc] = http.Upstream(upstream.scheme, parts.hostname, parts.port)

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="relay-forwarder")
        for project_id, upstream in self.upstreams.items():
            logger.info("forwarding project %s to %s", project_id, upstream.masked)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        for host in self._hosts.values():
            await host.close()

    def notify(self) -> None:
        """A commit queued envelopes: look for due rows now."""
        self._wake.set()

    # -- the loop ------------------------------------------------------------------------

    async def _run(self) -> None:
        try:
            self.last_error = await self.reader.run(outbox.last_errors) | self.last_error
        except Exception:
            logger.exception("could not read the last forwarding errors")
        while True:
            self._wake.clear()
            blocked = self._all_blocked_until(time.time())
            if blocked:
                # No upstream takes anything before then: reading the due rows only to put them
                # back made a commit per acknowledged envelope while the upstream was down. An
                # envelope that expires meanwhile is counted when the wait ends (at most
                # BACKOFF_MAX_S, or the Retry-After, late).
                await asyncio.sleep(blocked - time.time())
                continue
            try:
                busy = await self._yield_to_ingest()
                rows = await self.reader.run(outbox.due, time.time(), limit=BURST_BATCH if busy else BATCH)
                if rows:
                    await self._round(rows)
                    continue
                next_at = await self.reader.run(outbox.next_due)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("forwarding round failed; trying again shortly")
                next_at = time.time() + 1.0
            wait = IDLE_CHECK_S if next_at is None else min(IDLE_CHECK_S, max(0.0, next_at - time.time()))
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=wait)
            except TimeoutError:
                pass

    def _all_blocked_until(self, now: float) -> float:
        """When the soonest upstream takes envelopes again, if every one is backing off or rate
        limited for all categories (0: some upstream may take something now)."""
        soonest = 0.0
        for url in {upstream.envelope_url for upstream in self.upstreams.values()}:
            state = self.states.get(url)
            until = 0.0 if state is None else max(state.backoff_until, state.limits.get(ALL, 0.0))
            if until <= now:
                return 0.0
            soonest = until if not soonest else min(soonest, until)
        return soonest

    async def _yield_to_ingest(self) -> bool:
        """Wait while a burst of ingest requests is being handled, at most INGEST_FIRST_MAX_S: the
        backlog then grows on disk and drains after the burst, and never stops draining for long.
        Returns whether the burst goes on (the round is then a small one)."""
        if self.ingest_in_flight() <= BUSY_INGEST_REQUESTS:
            return False
        deadline = time.monotonic() + INGEST_FIRST_MAX_S
        # A poll, not an Event: signalling one would cost every ingest request on the hot path.
        while self.ingest_in_flight() > BUSY_INGEST_REQUESTS and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        return self.ingest_in_flight() > BUSY_INGEST_REQUESTS

    async def _round(self, rows: list[Due]) -> None:
        now = time.time()
        for state in self.states.values():
            state.prune(now)
        outcomes: dict[int, Outcome] = {}
        sendable: list[tuple[Due, Upstream]] = []
        probing: set[str] = set()
        for row in rows:
            upstream = self.upstreams.get(row.project_id)
            if upstream is None:
                outcomes[row.rowid] = Outcome("expired", detail="forwarding is no longer configured for this project")
                continue
            if now - row.queued_at > self.max_age_s:
                outcomes[row.rowid] = Outcome("expired", detail=self._expiry_detail(row.project_id))
                continue
            state = self.states[upstream.envelope_url]
            until = _blocked(state, row, now)
            if until:
                outcomes[row.rowid] = Outcome("pending", next_at=self._clamp(row, until))
                continue
            if state.out:
                # Recovering from an outage: one envelope probes the upstream before the rest go.
                if upstream.envelope_url in probing:
                    outcomes[row.rowid] = Outcome("pending", next_at=now + 0.05)
                    continue
                probing.add(upstream.envelope_url)
            sendable.append((row, upstream))
        if sendable:
            upstream_of = {row.rowid: upstream for row, upstream in sendable}
            # The stored bytes only now, for the envelopes that go: not for those a limit holds back.
            loaded = await self.reader.run(outbox.with_bodies, [row for row, _ in sendable])
            sendable = [(row, upstream_of[row.rowid]) for row in loaded]
        if sendable:
            await self.writer.change_outbox(OutboxChange([row.rowid for row, _ in sendable], begin=True))
            # Rewriting and compressing off the event loop: zlib lets go of the GIL while it works.
            bodies = await asyncio.to_thread(self._bodies, sendable)
            gate = asyncio.Semaphore(self.concurrency)
            results = await asyncio.gather(
                *(self._send(gate, row, upstream, body) for (row, upstream), body in zip(sendable, bodies, strict=True))
            )
            outcomes.update({row.rowid: result for (row, _), result in zip(sendable, results, strict=True)})
        await self._record(outcomes)

    def _bodies(self, sendable: list[tuple[Due, Upstream]]) -> list[Prepared | str]:
        """Each envelope as it is sent, or why it cannot be."""
        bodies: list[Prepared | str] = []
        for row, upstream in sendable:
            try:
                if row.endpoint.startswith("otlp_"):
                    # An OTLP request goes to the upstream's OTLP endpoint as it came: no header to rewrite.
                    request, content_type = otlp_request(row.raw)
                    signal = row.endpoint.removeprefix("otlp_")
                    path = f"{upstream.path_prefix}/api/{upstream.project_id}/integration/otlp/v1/{signal}/"
                    bodies.append(Prepared(*encode(request, row.content_encoding), content_type, path))
                else:
                    body = rewrite(row.raw, upstream, self.sandbox_keys)
                    bodies.append(Prepared(*encode(body, row.content_encoding), ENVELOPE_TYPE, upstream.envelope_path))
            except ValueError as exc:
                bodies.append(f"not forwardable: {exc}")
        return bodies

    async def _send(self, gate: asyncio.Semaphore, row: Due, upstream: Upstream, prepared: Prepared | str) -> Outcome:
        if isinstance(prepared, str):
            return Outcome("rejected", detail=prepared)
        body, encoding = prepared.body, prepared.encoding
        async with gate:
            state = self.states[upstream.envelope_url]
            now = time.time()
            until = _blocked(state, row, now)
            if until:  # a 429 or a failure came back while this one waited for its turn
                return Outcome("pending", next_at=self._clamp(row, until))
            client = row.sdk_client or f"relay-mock/{__version__}"
            headers = {
                "content-type": prepared.content_type,
                "x-sentry-auth": f"Sentry sentry_key={upstream.public_key}, sentry_version=7, sentry_client={client}",
                "user-agent": row.user_agent or client,
            }
            if encoding:
                headers["content-encoding"] = encoding
            if row.remote_addr:
                headers["x-forwarded-for"] = row.remote_addr.rsplit(":", 1)[0]
            try:
                # Redirects are not followed: the upstream may not choose another host.
                answer = await self._hosts[upstream.netloc].post(prepared.path, headers, body)
            except http.NotSent as exc:
                return self._failed(row, upstream, None, f"cannot reach {upstream.netloc}: {exc}")
            except http.Unanswered as exc:
                # The request may have arrived before the connection broke: sending again may duplicate it.
                return self._failed(row, upstream, None, f"no answer from {upstream.netloc}: {exc}", uncertain=True)
        return self._answered(row, upstream, answer)

    def _answered(self, row: Due, upstream: Upstream, answer: http.Answer) -> Outcome:
        status = answer.status
        state = self.states[upstream.envelope_url]
        if 200 <= status < 300:
            if state.out:
                logger.info("upstream %s answers again (%d)", upstream.netloc, status)
            state.succeeded()
            return Outcome("sent", status=status)
        text = answer.body[:DETAIL_MAX].decode("utf-8", "replace")
        if status == 429:
            now = time.time()
            limits = parse_rate_limits(
                answer.headers.get("x-sentry-rate-limits"), answer.headers.get("retry-after"), now
            )
            state.limit(limits)
            until = state.blocked_until(categories(row.item_types), now) or now
            detail = f"rate limited until {time.strftime('%H:%M:%S', time.gmtime(until))} UTC: {text[:200]}"
            self._note(row.project_id, f"429 {detail}")
            return Outcome("pending", status=status, detail=detail, next_at=self._clamp(row, until))
        if 300 <= status < 500:
            # 413 and other 4xx will not change by sending again; nor will a redirect, which is never
            # followed (the upstream may not choose where envelopes go).
            self._note(row.project_id, f"{status} rejected: {text[:200]}")
            return Outcome("rejected", status=status, detail=text)
        return self._failed(row, upstream, status, f"upstream answered {status}: {text[:200]}")

    def _failed(
        self, row: Due, upstream: Upstream, status: int | None, detail: str, *, uncertain: bool = False
    ) -> Outcome:
        """A 5xx or a connection failure: this envelope is tried again after its own backoff (by its
        attempts), and after OUTAGE_FAILURES in a row the whole upstream backs off too."""
        state = self.states[upstream.envelope_url]
        now = time.time()
        was_out = state.out
        state.failed(now)
        if state.out and not was_out:
            logger.warning("forwarding to %s keeps failing, backing off: %s", upstream.masked, detail)
        self._note(row.project_id, detail)
        until = max(now + backoff(row.attempts + 1), state.backoff_until)
        return Outcome("pending", status=status, detail=detail, next_at=self._clamp(row, until), uncertain=uncertain)

    async def _record(self, outcomes: dict[int, Outcome]) -> None:
        """Commit the outcomes, one writer change per distinct outcome."""
        groups: dict[Outcome, list[int]] = defaultdict(list)
        for rowid, outcome in outcomes.items():
            groups[outcome].append(rowid)
        # The round's last errors go with its first change: the same commit as their outcome.
        errors, self._new_errors = self._new_errors, {}
        for outcome, rowids in groups.items():
            await self.writer.change_outbox(
                OutboxChange(
                    rowids,
                    state=outcome.state,
                    next_at=outcome.next_at,
                    status=outcome.status,
                    detail=outcome.detail,
                    uncertain=outcome.uncertain,
                    errors=errors,
                )
            )
            errors = {}

    # -- helpers ---------------------------------------------------------------------------

    def _clamp(self, row: Due, until: float) -> float:
        """Not later than the row's expiry, so it expires on time rather than at its next try."""
        return min(until, row.queued_at + self.max_age_s + 0.001)

    def _expiry_detail(self, project_id: int) -> str:
        last = self.last_error.get(project_id)
        return f"not taken by the upstream within RELAY_FORWARD_MAX_AGE ({self.max_age_s:g} s)" + (
            f"; last error: {last[1]}" if last else ""
        )

    def _note(self, project_id: int, detail: str) -> None:
        self.last_error[project_id] = self._new_errors[project_id] = (time.time(), detail)


def _blocked(state: UpstreamState, row: Due, now: float) -> float:
    """When this envelope may go (0: now). Most of the time nothing limits the upstream at all:
    then the envelope's categories need not be worked out (twice per send)."""
    if not state.limits and not state.backoff_until:
        return 0.0
    return state.blocked_until(categories(row.item_types), now)
