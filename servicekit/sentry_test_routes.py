"""Endpoints that exercise the Sentry integration on demand. Never registered in production."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Literal

import sentry_sdk
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from servicekit.tracing import sentry_span, tag_transaction

logger = logging.getLogger(__name__)

PeerCall = Callable[[Request], Awaitable[int]]


class SentryTestError(RuntimeError):
    """Raised on purpose by /test-error."""


def sentry_test_router(peer_call: PeerCall | None = None) -> APIRouter:
    """Build the test routes; `peer_call` is this service's real call to another service."""
    router = APIRouter(tags=["sentry tests"])

    @router.get("/test-error", status_code=500)
    async def test_error() -> JSONResponse:
        """Raise, capture and report one error event; answer 500 with the test error id."""
        test_error_id = uuid.uuid4().hex
        tag_transaction("test_error_id", test_error_id)
        # WARNING, not ERROR: the record becomes a breadcrumb of the event below rather
        # than a second event of its own.
        logger.warning("raising test error %s", test_error_id)
        try:
            raise SentryTestError(f"test error {test_error_id}")
        except SentryTestError as exc:
            event_id = sentry_sdk.capture_exception(exc)
        return JSONResponse(
            {"error": "test_error", "test_error_id": test_error_id, "event_id": event_id}, status_code=500
        )

    @router.post("/test-flush")
    async def test_flush(timeout: float = Query(5.0, gt=0, le=30)) -> dict[str, object]:
        """Send what the SDK holds now: its queued envelopes and its client reports.

        The SDK sends client reports only along with a later envelope, at most once a minute, so
        the drops of a load run's last seconds stay in memory once traffic stops; the trace
        verifier calls this first so every drop is counted before it explains losses.
        """
        client = sentry_sdk.get_client()
        started = time.monotonic()
        await asyncio.to_thread(client.flush, timeout)
        return {"flushed": client.is_active(), "seconds": round(time.monotonic() - started, 3)}

    @router.get("/test-message")
    async def test_message(
        level: Literal["debug", "info", "warning", "error", "fatal"] = "info",
        message: str = Query("sandbox test message", max_length=1000),
    ) -> dict[str, str | None]:
        """Tag, log, then send `message` with `capture_message` at `level`."""
        test_message_id = uuid.uuid4().hex
        tag_transaction("test_message_id", test_message_id)
        logger.info("sending test message %s at level %s", test_message_id, level)
        event_id = sentry_sdk.capture_message(message, level=level)
        return {"event_id": event_id, "test_message_id": test_message_id, "level": level}

    @router.get("/test-performance")
    async def test_performance(request: Request) -> dict[str, object]:
        """Nested spans around a real query, a real call to another service and some work."""
        with sentry_span("test.performance", "performance test"):
            async with sentry_span("db.work", "read from Postgres"):
                async with request.app.state.sessionmaker() as session:
                    now = (await session.execute(text("SELECT now()"))).scalar_one()
            peer_status = None
            if peer_call is not None:
                async with sentry_span("peer.call", "call another service"):
                    peer_status = await peer_call(request)
            digest = b""
            with sentry_span("process", "nested processing"):
                for round_ in range(3):
                    with sentry_span("process.step", f"hash round {round_}"):
                        digest = hashlib.sha256(digest + b"x" * 65536).digest()
        return {"database_time": str(now), "peer_status": peer_status, "digest": digest.hex()}

    return router
