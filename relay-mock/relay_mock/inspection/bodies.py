"""Request bodies validated through the models the operations table declares for them (the same
models /inspect/openapi.json describes), before the handler runs. A body that is not JSON answers
400 (params.BadBody); JSON that is not a valid body answers 422 naming the field, with the
model's reason as the cause."""

from __future__ import annotations

import types
from collections.abc import Callable
from functools import cache
from typing import Any, Union, get_args, get_origin

import orjson
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails
from starlette.requests import Request

from relay_mock.inspection.params import BadBody

# The `detail` naming what is wrong, from the first of the model's errors (its `loc` and `type`).
BodyRefusal = Callable[[ErrorDetails], str]


class InvalidBody(Exception):
    def __init__(self, detail: str, cause: str) -> None:
        super().__init__(f"{detail}: {cause}")
        self.detail = detail
        self.cause = cause


async def validated_body(request: Request, body_type: Any, refusal: BodyRefusal) -> Any:
    raw = await request.body()
    try:
        orjson.loads(raw)  # the 400 for what is not JSON at all, as every POST answers it
    except orjson.JSONDecodeError as exc:
        raise BadBody(str(exc)) from None
    return validate(body_type, raw, refusal)


def validate(body_type: Any, raw: bytes, refusal: BodyRefusal) -> Any:
    """`raw` (JSON) as `body_type`, strictly: JSON's types as they are (a string is not a number,
    0 is not false), except that an integral number is an integer (models.json_integer)."""
    try:
        return _adapter(body_type).validate_json(raw, strict=True)
    except ValidationError as exc:
        first = _telling_error(body_type, raw, exc)
        raise InvalidBody(refusal(first), first["msg"]) from None


def _telling_error(body_type: Any, raw: bytes, exc: ValidationError) -> ErrorDetails:
    """Of a union (a list, or an object holding it), the error of the member whose shape the body
    has: the one naming a field, not "should be a valid list" for an object."""
    for member in _members(body_type):
        try:
            _adapter(member).validate_json(raw, strict=True)
        except ValidationError as member_exc:
            first = member_exc.errors()[0]
            if first["loc"]:
                return first
    return exc.errors()[0]


def _members(body_type: Any) -> tuple[Any, ...]:
    origin = get_origin(body_type)
    return get_args(body_type) if origin is Union or origin is types.UnionType else ()


@cache
def _adapter(body_type: Any) -> TypeAdapter[Any]:
    return TypeAdapter(body_type)


def fault_rule_refusal(problem: ErrorDetails) -> str:
    """The detail of a 422: the field the first problem is in (its `loc` starts with the action)."""
    loc = problem["loc"]
    if problem["type"] in ("union_tag_invalid", "union_tag_not_found"):
        field = "action"
    elif not loc:
        field = "body"
    else:
        field = str(loc[1] if len(loc) > 1 else loc[0])
    return f"invalid fault rule field {field}"


def expectations_refusal(problem: ErrorDetails) -> str:
    """The detail of a 422: `expectations[i].field` (a list's items, or the object's `expectations`)."""
    loc = list(problem["loc"])
    if loc[:1] == ["expectations"]:
        loc = loc[1:]
    if not loc or not isinstance(loc[0], int):
        return "invalid expectations[0].body"
    return f"invalid expectations[{loc[0]}].{loc[1] if len(loc) > 1 else ''}"
