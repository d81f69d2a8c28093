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

`parse_topology` validates it through `models.Topology` (the schema `POST /inspect/verify`'s body
is documented with, so the document and the validator cannot disagree) and turns it into
`VerifyConfig` changes, or raises TopologyError naming the key.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError
from pydantic_core import ErrorDetails

from relay_mock import models
from relay_mock.verify.model import RequiredOps, VerifyConfig

# What pydantic adds to an error's path for the branch of a union it tried (`status` is a string
# or a list of them): not a key of the file.
UNION_BRANCHES = {"str", "constrained-str"}
TOPOLOGY: TypeAdapter[models.Topology] = TypeAdapter(models.Topology)


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
    try:
        # Strict: a YAML `yes` is no number of seconds, `"5"` no list; an int is a float still.
        topology = TOPOLOGY.validate_python(data, strict=True)
    except ValidationError as exc:
        raise _named(exc.errors()[0]) from None
    changes: dict[str, Any] = {}
    if "call_ops" in topology:
        changes["call_ops"] = tuple(dict.fromkeys(("http.client", *topology["call_ops"])))
    if "skew_tolerance_s" in topology:
        changes["clock_skew_tolerance_s"] = float(topology["skew_tolerance_s"])
    if "flush_delay_s" in topology:
        changes["flush_delay_s"] = float(topology["flush_delay_s"])
    if "must_cross" in topology:
        changes["must_cross"] = {scenario: tuple(services) for scenario, services in topology["must_cross"].items()}
    if "required_ops" in topology:
        changes["required_ops"] = tuple(_rule(rule) for rule in topology["required_ops"])
    return replace(config, **changes)


def _rule(rule: models.RequiredOpsRule) -> RequiredOps:
    status = rule.get("status", [])
    return RequiredOps(
        rule["service"],
        rule["op_prefix"],
        rule.get("transaction"),
        (status,) if isinstance(status, str) else tuple(status),
    )


def _named(problem: ErrorDetails) -> TopologyError:
    """The first problem pydantic found, as `where: what` in the file's own terms."""
    where = ""
    for part in problem["loc"]:
        if isinstance(part, int):
            where += f"[{part}]"
        elif part == "[key]":
            where += " (a key)"
        elif part not in UNION_BRANCHES and not part.startswith(("list[", "function-")):
            where += f"{'.' if where else ''}{part}"
    if problem["type"] == "extra_forbidden":
        return TopologyError(where, "unknown key")
    if problem["type"] == "missing":
        return TopologyError(where, "required")
    return TopologyError(where or "expectations file", problem["msg"])
