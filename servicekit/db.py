"""Database plumbing shared by the services: the async engine, the declarative base,
and automatic, idempotent schema creation on the shared Postgres."""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import MetaData, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from servicekit.settings import ServiceSettings

logger = logging.getLogger(__name__)


def create_engine(settings: ServiceSettings) -> AsyncEngine:
    return create_async_engine(
        settings.database_url,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_pool_size,
        # A Postgres restart leaves dead connections in the pool; pre-ping finds them
        # on checkout so the service recovers without a restart of its own.
        pool_pre_ping=True,
        pool_timeout=5,
    )


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_schema(engine: AsyncEngine, metadata: MetaData, *, timeout: float = 30.0) -> None:
    """Create the service's Postgres schema (`metadata.schema`) and tables if missing.
    Safe to run from many processes at once: an advisory lock serialises concurrent starts."""
    schema = metadata.schema
    assert schema, "each service keeps its tables in a schema of its own"
    lock_key = zlib.crc32(schema.encode())
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        try:
            async with engine.begin() as conn:
                await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
                await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
                await conn.run_sync(metadata.create_all)
            return
        except (DBAPIError, OSError) as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise
            logger.warning("database not ready (%s); retrying", type(exc).__name__)
            await asyncio.sleep(0.5)


async def ping(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:  # noqa: BLE001 - a health probe reports, it does not raise
        return False


async def _request_session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.sessionmaker() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(_request_session)]
