"""The trace lifecycle the stack's services run with: a test that takes `lifecycle` runs twice,
once as the stack is (transactions) and once with both services streaming spans."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.stack import Stack


@pytest.fixture(params=["transactions", "stream"])
def lifecycle(request: pytest.FixtureRequest, stack: Stack) -> Iterator[str]:
    if request.param == "transactions":
        yield request.param
        return
    with stack.reconfigured("api", "downstream", SENTRY_TRACE_LIFECYCLE=request.param):
        yield request.param
