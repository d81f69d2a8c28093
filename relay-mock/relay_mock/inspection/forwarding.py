"""Forwarding over HTTP: the report relay_mock/forwarding/report.py builds."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.forwarding.report import report
from relay_mock.inspection.responses import respond


async def get_forwarding(request: Request) -> Response:
    return respond(models.Forwarding, await report(request.app.state))
