"""schemathesis hooks for relay-mock's inspection API (SCHEMATHESIS_HOOKS=tests.fuzz_api.relay_hooks).

`/inspect/wait` (`timeout`, 10 s when absent) and `/inspect/verify` (`deadline`) block for as
long as they are told, up to 300 and 600 s, when nothing arrives, and nothing does while the API
is fuzzed: valid values are shortened to at most 0.2 s so a run stays short. Invalid ones go out
as generated."""

from __future__ import annotations

from typing import Any

import schemathesis

BLOCKING = {"/inspect/wait": ("timeout", 300.0), "/inspect/verify": ("deadline", 600.0)}
LONGEST_S = 0.2


@schemathesis.hook
def before_call(ctx: schemathesis.HookContext, case: schemathesis.Case[Any], **kwargs: Any) -> None:
    if case.operation.path not in BLOCKING:
        return
    name, high = BLOCKING[case.operation.path]
    query = case.query if case.query is not None else {}
    raw = query.get(name)
    try:
        value = LONGEST_S if raw in (None, "") else float(raw)
    except (TypeError, ValueError):
        return
    if 0 <= value <= high:
        query[name] = min(value, LONGEST_S)
        case.query = query
