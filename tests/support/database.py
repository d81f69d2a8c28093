"""Throw-away databases on the test stack's Postgres, for tests that need an empty one
(first starts, schema creation races)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg  # type: ignore[import-untyped]

from tests.support.stack import Stack


async def _admin(stack: Stack, statement: str) -> None:
    conn = await asyncpg.connect(
        host="127.0.0.1", port=stack.port("DB_PORT"), user="sandbox", password="sandbox", database="sandbox"
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@contextmanager
def fresh_database(stack: Stack) -> Iterator[str]:
    """Create an empty database, yield its SQLAlchemy URL, and drop it afterwards."""
    name = f"test_{secrets.token_hex(6)}"
    asyncio.run(_admin(stack, f'CREATE DATABASE "{name}"'))
    try:
        yield stack.database_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        asyncio.run(_admin(stack, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
