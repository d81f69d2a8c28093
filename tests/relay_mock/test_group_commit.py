"""The writer's group commit: an envelope that arrives alone is committed at once, and the
ones that arrive while a commit is on its way to disk share the next commit (leader and
followers). No acknowledgement waits for company, and none comes before its commit.

"At once" is checked without a clock: the writer's thread runs under a profiler (`Watched`)
that records every call able to pass time it makes outside the two places it may wait, the
commit itself and its idle wait for work (on its condition, with nothing pending): a sleep of
any length, a wait on any lock, condition or event, a select or a clock read (a busy wait).
A gather delay of any kind, even `time.sleep(0)`, is such a call; none may occur.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Any

import pytest

from relay_mock.settings import RelaySettings
from relay_mock.store.records import EnvelopeRecord
from relay_mock.store.writer import StoreWriter

DEADLINE_S = 10
pytestmark = pytest.mark.anyio

# C functions that wait or read a clock: time.* (sleep, monotonic...), select.*, and any lock's
# acquire (every Condition, Event, Semaphore and queue waits through one).
TIMING_MODULES = frozenset({"time", "select"})


def _record(n: int) -> EnvelopeRecord:
    return EnvelopeRecord(
        received_at=1_700_000_000.0 + n,
        project_id=1,
        project="api",
        public_key="a" * 32,
        auth_form="header",
        sdk_client="sentry.python/2",
        endpoint="envelope",
        path="/api/1/envelope/",
        content_encoding="identity",
        compressed_size=2,
        raw=b"{}\n",
        header={},
        items=[],
    )


class Watched(StoreWriter):
    """A writer whose thread records each call that can pass time outside its commit (`_write`)
    and its idle wait; its first commit may be held at a gate, and the size of each group is kept."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waits: list[str] = []
        self.groups: list[int] = []
        self.hold_first_commit = False
        self.in_first_commit = threading.Event()
        self.gate = threading.Event()
        self._excused: list[FrameType] = []  # the frames of the commit and of the idle wait

    def _run(self) -> None:
        sys.setprofile(self._watch)  # this thread only
        try:
            super()._run()
        finally:
            sys.setprofile(None)

    def _watch(self, frame: FrameType, event: str, arg: Any) -> None:
        if event == "call" and frame.f_locals.get("self") is not None:
            owner = frame.f_locals["self"]
            idle = frame.f_code is threading.Condition.wait.__code__ and owner is self._cond and not self._pending
            if (frame.f_code.co_name == "_write" and owner is self) or idle:
                self._excused.append(frame)
            elif frame.f_code.co_name == "wait" and not self._excused:
                self.waits.append(f"{type(owner).__name__}.wait with {len(self._pending)} pending")
        elif event == "return" and self._excused and frame is self._excused[-1]:
            self._excused.pop()
        elif event == "c_call" and not self._excused:
            module, name = getattr(arg, "__module__", None), getattr(arg, "__name__", "")
            if module in TIMING_MODULES or name == "acquire":
                self.waits.append(f"{module or type(getattr(arg, '__self__', None)).__name__}.{name}")

    def _write(self, conn: Any, batch: list[Any]) -> list[Any]:
        self.groups.append(len(batch))
        if self.hold_first_commit and len(self.groups) == 1:
            self.in_first_commit.set()
            self.gate.wait(DEADLINE_S)
        return super()._write(conn, batch)


def _writer(tmp_path: Path) -> Watched:
    """A writer configured as relay-mock configures its own, from the default settings."""
    writer = Watched.from_settings(RelaySettings(data_dir=tmp_path))
    assert isinstance(writer, Watched)
    return writer


async def test_a_lone_envelope_is_committed_without_waiting_for_company(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    writer.start()
    try:
        for n in range(5):  # one after another, as an SDK's transport sends
            await asyncio.wait_for(writer.append(_record(n)), DEADLINE_S)
    finally:
        await writer.close()
    assert writer.groups == [1, 1, 1, 1, 1]
    assert writer.waits == [], "the writer's thread waited outside its commit and its idle wait"


async def test_envelopes_arriving_during_a_commit_share_the_next_one(tmp_path: Path) -> None:
    writer = _writer(tmp_path)
    writer.hold_first_commit = True
    writer.start()
    try:
        leader = asyncio.ensure_future(writer.append(_record(0)))
        assert await asyncio.to_thread(writer.in_first_commit.wait, DEADLINE_S)
        followers = [asyncio.ensure_future(writer.append(_record(n))) for n in range(1, 4)]
        await asyncio.sleep(0)  # a bare yield, no time: each follower hands its envelope over
        assert len(writer._pending) == 3, "the followers are queued behind the commit in flight"
        assert not leader.done(), "acknowledged before its commit was on disk"
        writer.gate.set()
        rowids = await asyncio.wait_for(asyncio.gather(leader, *followers), DEADLINE_S)
    finally:
        writer.gate.set()
        await writer.close()
    assert writer.groups == [1, 3]
    assert rowids == [1, 2, 3, 4]
    # Free again with three pending, the writer took them at once: nothing waited for a fourth.
    assert writer.waits == [], "the writer's thread waited outside its commit and its idle wait"
