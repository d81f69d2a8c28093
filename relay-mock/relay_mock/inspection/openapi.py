"""The inspection API's OpenAPI 3.1 document, built from the operations table and the pydantic
models (never written by hand), and the route that serves it at `/inspect/openapi.json`."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode
from starlette.requests import Request
from starlette.responses import Response

from relay_mock import __version__
from relay_mock.inspection.operations import COMMON_ERRORS, ERROR_MEANINGS, OPERATIONS, Operation
from relay_mock.inspection.responses import ORJSONResponse
from relay_mock.models import ApiError, Readiness

REF = "#/components/schemas/{model}"
SCHEMA_PATH = "/inspect/openapi.json"
DOCS_PATH = "/inspect/docs"
_CONVERTER = re.compile(r"\{(\w+):\w+\}")


def openapi_path(path: str) -> str:
    """Starlette's `{index:int}` is OpenAPI's `{index}`."""
    return _CONVERTER.sub(r"{\1}", path)


@cache
def document() -> dict[str, Any]:
    # One pass over every response and body type, so a model used by both is defined once
    # (pydantic names the two apart, `X-Input` / `X-Output`, only where they differ).
    types: dict[str, tuple[Any, JsonSchemaMode]] = {"ApiError": (ApiError, "serialization")}
    # Answered outside the inspection API (the readiness probe the UI's header reads), described
    # under components so every JSON the UI reads has a schema here.
    types["Readiness"] = (Readiness, "serialization")
    for op in OPERATIONS:
        if op.response is not None:
            types[f"response:{op.response.__name__}"] = (op.response, "serialization")
        if op.event is not None:
            types[f"event:{op.event.__name__}"] = (op.event, "serialization")
        if op.body is not None:
            types[f"body:{op.method} {op.path}"] = (op.body, "validation")
    refs, definitions = TypeAdapter.json_schemas(
        [(key, mode, TypeAdapter(kind)) for key, (kind, mode) in types.items()], ref_template=REF
    )
    schema_of = {key: refs[(key, mode)] for key, (_, mode) in types.items()}
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(openapi_path(op.path), {})[op.method.lower()] = _operation(op, schema_of)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "relay-mock inspection API",
            "version": __version__,
            "description": (
                "What relay-mock captured, as JSON. Every error answers `{detail, causes}`. "
                "Ingest (`/api/{project_id}/envelope/`, `/store/`) speaks Sentry's protocol and is not described here."
            ),
        },
        "paths": paths,
        "components": {"schemas": dict(sorted(definitions.get("$defs", {}).items()))},
    }


def _operation(op: Operation, schema_of: dict[str, Any]) -> dict[str, Any]:
    described: dict[str, Any] = {
        "operationId": f"{op.method.lower()}_{op.handler.rsplit('.', 1)[-1]}",
        "summary": op.summary,
        "tags": [op.tag] if op.tag else [],
        "parameters": [param.to_openapi() for param in op.params],
        "responses": {str(op.status): _success(op, schema_of)},
    }
    for status in sorted({*op.errors, *COMMON_ERRORS}):
        described["responses"][str(status)] = {
            "description": ERROR_MEANINGS[status],
            "content": {"application/json": {"schema": schema_of["ApiError"]}},
        }
    if op.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": schema_of[f"body:{op.method} {op.path}"]}},
        }
    return described


def _success(op: Operation, schema_of: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = {"description": op.summary}
    if op.response is not None:
        response["content"] = {op.media_type: {"schema": schema_of[f"response:{op.response.__name__}"]}}
    elif op.status != 204:
        response["content"] = {op.media_type: {"schema": {"type": "string"}}}
    if op.event is not None:
        # OpenAPI 3.1 has no schema for one event of a stream (3.2's itemSchema): an extension,
        # the schema of each event's `data`.
        response["content"][op.media_type]["x-event-data"] = schema_of[f"event:{op.event.__name__}"]
    if op.response_headers:
        response["headers"] = {name: {"schema": schema} for name, schema in op.response_headers.items()}
    return response


async def get_openapi(request: Request) -> Response:
    return ORJSONResponse(document())
