"""The expectations file (relay_mock/verify/topology.py) is validated by the model the OpenAPI
document shows for `POST /inspect/verify`'s body (models.Topology): a file is refused naming the
key, and what the document declares is what runs."""

from __future__ import annotations

from typing import Any

import pytest

from relay_mock import models
from relay_mock.verify.model import RequiredOps, VerifyConfig
from relay_mock.verify.topology import TOPOLOGY, TopologyError, load_topology, parse_topology


@pytest.mark.parametrize(
    ("data", "where"),
    [
        ({"call_ops": "db"}, "call_ops"),
        ({"call_ops": [""]}, "call_ops[0]"),
        ({"skew_tolerance_s": True}, "skew_tolerance_s"),  # YAML's `yes` is no number of seconds
        ({"skew_tolerance_s": -1}, "skew_tolerance_s"),
        ({"flush_delay_s": float("inf")}, "flush_delay_s"),
        ({"flush_delay_s": "5"}, "flush_delay_s"),
        ({"must_cross": {"orders": ["api", 1]}}, "must_cross.orders[1]"),
        ({"required_ops": [{"service": "api"}]}, "required_ops[0].op_prefix"),
        ({"required_ops": [{"service": "api", "op_prefix": "db", "status": 5}]}, "required_ops[0].status"),
        ({"required_ops": [{"service": "api", "op_prefix": "db", "stauts": ["ok"]}]}, "required_ops[0].stauts"),
        ({"must_crosss": {}}, "must_crosss"),
        ([], "expectations file"),
    ],
)
def test_a_bad_file_is_refused_naming_where(data: Any, where: str) -> None:
    with pytest.raises(TopologyError) as refused:
        parse_topology(data, VerifyConfig())

    assert refused.value.where == where


def test_a_good_file_changes_the_config() -> None:
    text = """
call_ops: [rpc.client]
skew_tolerance_s: 1
flush_delay_s: 30
must_cross: {orders: [api, downstream]}
required_ops:
  - {service: api, op_prefix: db, status: ok}
"""
    config = parse_topology(load_topology(text), VerifyConfig())

    assert config.call_ops == ("http.client", "rpc.client")
    assert (config.clock_skew_tolerance_s, config.flush_delay_s) == (1.0, 30.0)
    assert config.must_cross == {"orders": ("api", "downstream")}
    assert config.required_ops == (RequiredOps("api", "db", None, ("ok",)),)


def test_the_validator_is_the_documented_schema() -> None:
    # POST /inspect/verify documents its body's `expect` as models.Topology: the validator is it.
    documented = models.VerifyRequest.model_json_schema()["$defs"]["Topology"]
    assert TOPOLOGY.json_schema()["properties"] == documented["properties"]
