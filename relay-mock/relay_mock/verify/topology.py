"""The expectations file: what must hold for a topology, beyond what the data shows.

The verifier infers the call graph from the data (every call span owes one child); this file
states the rest, per topology. YAML (or the same as JSON), every key optional:

    call_ops: [http.client]        # span ops of outgoing calls (http.client is always one)
    skew_tolerance_s: 0.1          # how far a child may stick out of the call that caused it
    flush_delay_s: 65              # how long after a trace a drop report still explains a loss
    must_cross:                    # services a sampled expected trace must cross, per scenario
      orders: [api, downstream]    # ("*": every scenario)
    required_ops:                  # spans a transaction must hold
      - service: api
        transaction: /orders       # optional: only transactions of this name
        status: [ok]               # optional: only transactions that ended so
        op_prefix: db

`parse_topology` turns it into `VerifyConfig` changes, or raises TopologyError naming the key.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import yaml

from relay_mock.verify.model import RequiredOps, VerifyConfig

KEYS = {"call_ops", "skew_tolerance_s", "flush_delay_s", "must_cross", "required_ops"}


class TopologyError(ValueError):
    def __init__(self, where: str, message: str) -> None:
        super().__init__(f"{where}: {message}")
        self.where = where
        self.message = message


def load_topology(text: str) -> dict[str, Any]:
    """Parse the file's text (YAML or JSON) into a plain mapping, validated."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise TopologyError("expectations file", f"not valid YAML: {exc}") from None
    data = {} if data is None else data
    parse_topology(data, VerifyConfig())  # validate now, where the user can still fix it
    return data


def parse_topology(data: Any, config: VerifyConfig) -> VerifyConfig:
    if not isinstance(data, dict):
        raise TopologyError("expectations file", "expected a mapping of settings")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise TopologyError(unknown[0], f"unknown key (known: {', '.join(sorted(KEYS))})")
    changes: dict[str, Any] = {}
    if "call_ops" in data:
        ops = _str_list(data["call_ops"], "call_ops")
        changes["call_ops"] = tuple(dict.fromkeys(("http.client", *ops)))
    if "skew_tolerance_s" in data:
        changes["clock_skew_tolerance_s"] = _seconds(data["skew_tolerance_s"], "skew_tolerance_s")
    if "flush_delay_s" in data:
        changes["flush_delay_s"] = _seconds(data["flush_delay_s"], "flush_delay_s")
    if "must_cross" in data:
        must = data["must_cross"]
        if not isinstance(must, dict):
            raise TopologyError("must_cross", "expected a mapping: scenario -> list of services")
        changes["must_cross"] = {
            str(scenario): tuple(_str_list(services, f"must_cross.{scenario}")) for scenario, services in must.items()
        }
    if "required_ops" in data:
        changes["required_ops"] = tuple(
            _rule(rule, f"required_ops[{i}]") for i, rule in enumerate(_list(data["required_ops"], "required_ops"))
        )
    return replace(config, **changes)


def _rule(rule: Any, where: str) -> RequiredOps:
    if not isinstance(rule, dict):
        raise TopologyError(where, "expected a mapping with service and op_prefix")
    unknown = sorted(set(rule) - {"service", "transaction", "status", "op_prefix"})
    if unknown:
        raise TopologyError(f"{where}.{unknown[0]}", "unknown key (known: service, transaction, status, op_prefix)")
    for key in ("service", "op_prefix"):
        if not isinstance(rule.get(key), str) or not rule[key]:
            raise TopologyError(f"{where}.{key}", "required, a non-empty string")
    transaction = rule.get("transaction")
    if transaction is not None and not isinstance(transaction, str):
        raise TopologyError(f"{where}.transaction", "a string")
    status = rule.get("status", [])
    status = [status] if isinstance(status, str) else status
    return RequiredOps(rule["service"], rule["op_prefix"], transaction, tuple(_str_list(status, f"{where}.status")))


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise TopologyError(where, "expected a list")
    return value


def _str_list(value: Any, where: str) -> list[str]:
    items = _list(value, where)
    if not all(isinstance(v, str) and v for v in items):
        raise TopologyError(where, "expected a list of non-empty strings")
    return items


def _seconds(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise TopologyError(where, "expected a number of seconds >= 0")
    return float(value)
