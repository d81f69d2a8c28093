"""A schemathesis check the services must pass: a 422 names the fields it refused.

Loaded by the CLI through SCHEMATHESIS_HOOKS=tests.fuzz_api.hooks.
"""

from __future__ import annotations

from typing import Any

import schemathesis


@schemathesis.check
def validation_names_the_field(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> None:
    if response.status_code != 422:
        return
    detail = response.json().get("detail")
    if not isinstance(detail, list) or not detail:
        raise AssertionError(f"422 without a list of problems: {response.text[:300]}")
    for problem in detail:
        if not isinstance(problem, dict) or not problem.get("loc"):
            raise AssertionError(f"422 that does not name the field: {response.text[:300]}")
