"""Fault rules over HTTP: list, add, remove. See relay_mock/faults.py for what they do. A rule to
add is a models.FaultRuleSpec, validated before add_rule runs (operations.py)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from relay_mock import models
from relay_mock.faults import FaultRules
from relay_mock.inspection.responses import error, respond


async def list_rules(request: Request) -> Response:
    rules: FaultRules = request.app.state.faults
    return respond(models.FaultRuleList, {"rules": [rule.to_dict() for rule in rules.list()]})


async def add_rule(request: Request) -> Response:
    rules: FaultRules = request.app.state.faults
    spec: models.RateLimitSpec | models.StatusSpec | models.LatencySpec | models.DropSpec = request.state.body
    rule = rules.add(**spec.model_dump(exclude={"remaining"}))
    return respond(models.FaultRule, rule.to_dict(), status_code=201)


async def remove_rule(request: Request) -> Response:
    rules: FaultRules = request.app.state.faults
    rule_id = request.path_params["rule_id"]
    if not rules.remove(rule_id):
        return error(404, f"no fault rule {rule_id}")
    return Response(status_code=204)


async def remove_all(request: Request) -> Response:
    request.app.state.faults.clear()
    return Response(status_code=204)
