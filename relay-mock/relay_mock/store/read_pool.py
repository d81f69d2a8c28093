"""The read side's connections. Each query runs in a worker thread on a read-only connection
of its own, so readers never block the event loop nor the writer (WAL lets them run side by side)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from relay_mock.store.database import connect

T = TypeVar("T")


class Reader:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._local = threading.local()

    def connection(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=True)
            self._local.conn = conn
        return conn

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run `fn(connection, *args, **kwargs)` in a worker thread."""
        return await asyncio.to_thread(lambda: fn(self.connection(), *args, **kwargs))
