"""JSON responses encoded with orjson (fast, and strict about what it encodes)."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel
from starlette.responses import JSONResponse

from relay_mock.models import as_json


class ORJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def respond(
    model: type[BaseModel], content: Any, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> ORJSONResponse:
    """`content` read as `model` and sent as the model dumps it: what /inspect/openapi.json says
    the operation answers. Content the model does not describe fails here, not in a client. An
    instance of `model` (what store/ and the handlers build) passes through unvalidated again."""
    return ORJSONResponse(as_json(model.model_validate(content)), status_code=status_code, headers=headers)


def error(status: int, detail: str, *causes: str) -> ORJSONResponse:
    return ORJSONResponse({"detail": detail, "causes": list(causes)}, status_code=status)
