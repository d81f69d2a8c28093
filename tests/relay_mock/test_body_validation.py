"""The bodies the inspection API takes: the values schemathesis found accepted or refused wrongly
(see the commit that added tests/fuzz_api/test_relay_openapi_fuzz.py)."""

from __future__ import annotations

from typing import Any

import pytest

from relay_mock.expectations import ExpectationError, parse_batch
from relay_mock.faults import FaultRules, RuleError

TRACE = "0af7651916cd43dd8448eb211c80319c"


def expectation(**fields: Any) -> dict[str, Any]:
    return {"trace_id": TRACE, "scenario": "orders", **fields}


@pytest.mark.parametrize(
    ("fields", "where"),
    [
        ({"witnesses": [{"received": None, "service": "api", "sampled": 0}]}, "witnesses"),
        ({"baggage": {"sample_rate": {}}}, "baggage"),
        ({"status_code": 10**34}, "status_code"),
        ({"status_code": -1}, "status_code"),
    ],
)
def test_an_expectation_with_a_wrong_value_is_refused_naming_the_field(fields: dict[str, Any], where: str) -> None:
    with pytest.raises(ExpectationError) as refused:
        parse_batch([expectation(**fields)])

    assert refused.value.where == f"expectations[0].{where}"


def test_an_integral_float_status_code_is_an_integer() -> None:
    (row,) = parse_batch([expectation(status_code=404.0)])

    assert 404 in row and not any(isinstance(value, float) and value == 404 for value in row)


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        ({"action": "drop", "categories": {}}, "categories"),
        ({"action": "drop", "categories": ""}, "categories"),
        ({"action": "drop", "count": None, "remaining": {}}, "count"),
        ({"action": "drop", "project": "2"}, "project"),
        ({"action": "drop", "project": 56338450327707721728}, "project"),
        ({"action": "drop", "project": -1}, "project"),
    ],
)
def test_a_fault_rule_with_a_wrong_value_is_refused_naming_the_field(spec: dict[str, Any], field: str) -> None:
    with pytest.raises(RuleError) as refused:
        FaultRules().add(spec)

    assert refused.value.field_name == field


def test_remaining_is_read_when_count_is_null() -> None:
    rule = FaultRules().add({"action": "drop", "count": None, "remaining": 3})

    assert rule.remaining == 3


def test_integral_floats_are_integers_in_a_fault_rule() -> None:
    rule = FaultRules().add({"action": "latency", "latency_ms": 1415.0, "project": 2.0})

    assert (rule.latency_ms, rule.project) == (1415, 2)
    assert isinstance(rule.latency_ms, int) and isinstance(rule.project, int)
