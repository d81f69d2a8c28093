"""The writer's group commit: an envelope that arrives alone is committed at once, and the
ones that arrive while a commit is on its way to disk share the next commit (leader and
followers). No acknowledgement waits for company, and none comes before its commit."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from relay_mock.settings import RelaySettings
from relay_mock.store.records import EnvelopeRecord
from relay_mock.store.writer import StoreWriter

DEADLINE_S = 10
pytestmark = pytest.mark.anyio


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


class RecordingCondition(threading.Condition):
    """Remembers every wait that had work pending: time a waiting request was made to wait."""

    def __init__(self, writer: StoreWriter) -> None:
        super().__init__()
        self.writer = writer
        self.waits_with_work_pending: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        if self.writer._pending:
            self.waits_with_work_pending.append(timeout)
        return super().wait(timeout)


class GatedWriter(StoreWriter):
    """A writer whose first commit holds until the test opens the gate."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_first_commit = threading.Event()
        self.gate = threading.Event()
        self.groups: list[int] = []

    def _write(self, conn: Any, batch: list[Any]) -> list[Any]:
        self.groups.append(len(batch))
        if len(self.groups) == 1:
            self.in_first_commit.set()
            self.gate.wait(DEADLINE_S)
        return super()._write(conn, batch)


def _writer(cls: type[StoreWriter], tmp_path: Path) -> Any:
    """A writer configured as relay-mock configures its own, from the default settings."""
    return cls.from_settings(RelaySettings(data_dir=tmp_path))


async def test_a_lone_envelope_is_committed_without_waiting_for_company(tmp_path: Path) -> None:
    writer = _writer(StoreWriter, tmp_path)
    condition = RecordingCondition(writer)
    writer._cond = condition
    writer.start()
    try:
        for n in range(5):  # one after another, as an SDK's transport sends
            await asyncio.wait_for(writer.append(_record(n)), DEADLINE_S)
    finally:
        await writer.close()
    assert writer.batches == 5
    assert condition.waits_with_work_pending == [], "the writer sat on pending envelopes before committing them"


async def test_envelopes_arriving_during_a_commit_share_the_next_one(tmp_path: Path) -> None:
    writer = _writer(GatedWriter, tmp_path)
    writer.start()
    try:
        leader = asyncio.ensure_future(writer.append(_record(0)))
        assert await asyncio.to_thread(writer.in_first_commit.wait, DEADLINE_S)
        followers = [asyncio.ensure_future(writer.append(_record(n))) for n in range(1, 4)]
        await asyncio.sleep(0)  # let the followers queue up behind the commit in flight
        assert not leader.done(), "acknowledged before its commit was on disk"
        writer.gate.set()
        rowids = await asyncio.wait_for(asyncio.gather(leader, *followers), DEADLINE_S)
    finally:
        writer.gate.set()
        await writer.close()
    assert writer.groups == [1, 3]
    assert rowids == [1, 2, 3, 4]
