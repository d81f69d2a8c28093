"""JSON responses encoded with orjson (fast, and strict about what it encodes)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def error(status: int, detail: str, *causes: str) -> ORJSONResponse:
    return ORJSONResponse({"detail": detail, "causes": list(causes)}, status_code=status)
