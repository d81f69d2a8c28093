"""The bodies the inspection API takes: the values schemathesis found accepted or refused wrongly
(see the commit that added tests/fuzz_api/test_relay_openapi_fuzz.py). The validators are the
operations table's: each POST's body model (models.FaultRuleSpec, models.ExpectationBody) and the
refusal naming the field (inspection/bodies.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from relay_mock import models
from relay_mock.faults import FaultRule, FaultRules
from relay_mock.inspection import expectations
from relay_mock.inspection.bodies import InvalidBody, expectations_refusal, fault_rule_refusal, validate
from relay_mock.inspection.operations import OPERATIONS

TRACE = "0af7651916cd43dd8448eb211c80319c"


def expectation(**fields: Any) -> dict[str, Any]:
    return {"trace_id": TRACE, "scenario": "orders", **fields}


def expectations_body(body: Any) -> list[models.Expectation]:
    parsed = validate(models.ExpectationBody, json.dumps(body).encode(), expectations_refusal)
    return list(parsed.expectations if isinstance(parsed, models.ExpectationBatch) else parsed)


def fault_rule(spec: Any) -> FaultRule:
    parsed = validate(models.FaultRuleSpec, json.dumps(spec).encode(), fault_rule_refusal)
    return FaultRules().add(**parsed.model_dump(exclude={"remaining"}))


def test_the_posts_validate_through_the_models_the_table_declares() -> None:
    declared = {(op.method, op.path): (op.body, op.body_refusal) for op in OPERATIONS if op.body is not None}

    assert declared[("POST", "/inspect/faults")] == (models.FaultRuleSpec, fault_rule_refusal)
    assert declared[("POST", "/inspect/expectations")] == (models.ExpectationBody, expectations_refusal)


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"witnesses": [{"received": None, "service": "api", "sampled": 0}]}, "witnesses"),
        ({"baggage": {"sample_rate": {}}}, "baggage"),
        ({"status_code": 10**34}, "status_code"),
        ({"status_code": -1}, "status_code"),
        ({"trace_id": "0AF7651916CD43DD8448EB211C80319C"}, "trace_id"),
        ({"scenario": ""}, "scenario"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"sampled": "yes"}, "sampled"),
        ({"propagation": "smoke"}, "propagation"),
    ],
)
def test_an_expectation_with_a_wrong_value_is_refused_naming_the_field(fields: dict[str, Any], where: str) -> None:
    with pytest.raises(InvalidBody) as refused:
        expectations_body([expectation(**fields)])

    assert refused.value.detail == f"invalid expectations[0].{where}"


def test_an_expectation_in_a_batch_object_is_named_by_its_index() -> None:
    with pytest.raises(InvalidBody) as refused:
        expectations_body({"expectations": [expectation(), expectation(status_code="404")]})

    assert refused.value.detail == "invalid expectations[1].status_code"


def test_a_body_that_is_no_list_of_expectations_is_refused() -> None:
    with pytest.raises(InvalidBody) as refused:
        expectations_body("orders")

    assert refused.value.detail == "invalid expectations[0].body"


def test_an_integral_float_status_code_is_an_integer() -> None:
    (parsed,) = expectations_body([expectation(status_code=404.0)])
    row = expectations.stored_row(parsed, 0.0)

    assert 404 in row and not any(isinstance(value, float) and value == 404 for value in row)


def test_omitted_fields_are_stored_as_the_model_declares_its_defaults() -> None:
    """The disagreement issue 22 named: models.Expectation said an omitted `expect_services` meant
    the sandbox's api and downstream, the validator that ran stored `[]`. Resolved for `[]` (what
    the verifier has always read: no services named), now declared on the model, which is the
    validator; a null is the same as leaving the field out."""
    (omitted,) = expectations_body([expectation()])
    (null,) = expectations_body([expectation(expect_services=None, sampled=None, propagation=None)])
    declared = models.Expectation.model_fields

    assert declared["expect_services"].default == []
    for parsed in (omitted, null):
        row = expectations.stored_row(parsed, 1.0)
        assert (parsed.expect_services, parsed.expect_errors_from) == ([], [])
        assert row[6:8] == ("[]", "[]")
        assert (row[3], row[-1]) == (int(declared["sampled"].default), declared["propagation"].default)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"action": "drop", "categories": {}}, "categories"),
        ({"action": "drop", "categories": ""}, "categories"),
        ({"action": "drop", "count": None, "remaining": {}}, "count"),
        ({"action": "drop", "project": "2"}, "project"),
        ({"action": "drop", "project": 56338450327707721728}, "project"),
        ({"action": "drop", "project": -1}, "project"),
        ({"action": "explode"}, "action"),
        ({}, "action"),
        (["drop"], "body"),
        ({"action": "latency"}, "latency_ms"),
        ({"action": "drop", "colour": "red"}, "colour"),
    ],
)
def test_a_fault_rule_with_a_wrong_value_is_refused_naming_the_field(spec: Any, field: str) -> None:
    with pytest.raises(InvalidBody) as refused:
        fault_rule(spec)

    assert refused.value.detail == f"invalid fault rule field {field}"


def test_remaining_is_read_when_count_is_null() -> None:
    rule = fault_rule({"action": "drop", "count": None, "remaining": 3})

    assert rule.remaining == 3


def test_integral_floats_are_integers_in_a_fault_rule() -> None:
    rule = fault_rule({"action": "latency", "latency_ms": 1415.0, "project": 2.0})

    assert (rule.latency_ms, rule.project) == (1415, 2)
    assert isinstance(rule.latency_ms, int) and isinstance(rule.project, int)


def test_an_action_takes_its_declared_default_status() -> None:
    statuses = {
        action: fault_rule({"action": action, "latency_ms": 5}).status
        for action in ("rate_limit", "status", "latency", "drop")
    }

    assert statuses == {"rate_limit": 429, "status": 503, "latency": 200, "drop": 0}
