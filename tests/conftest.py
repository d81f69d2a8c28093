"""Fixtures shared by the whole suite.

`stack` starts the compose stack once per session (project `sentry-sandbox-test`, its
own ports) and always tears it down, also when tests fail. KEEP_STACK=1 leaves it up, and
the next session reuses it (`up --build` still rebuilds whatever changed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.relay import RelayClient
from tests.support.stack import Stack, make_test_stack


@pytest.fixture(scope="session")
def stack() -> Iterator[Stack]:
    stack = make_test_stack()
    keep = os.environ.get("KEEP_STACK") == "1"
    if not keep:
        stack.down()
    try:
        stack.up()
        yield stack
    finally:
        if not keep:
            stack.down()


@pytest.fixture(scope="session")
def relay(stack: Stack) -> Iterator[RelayClient]:
    client = RelayClient(stack.relay_url)
    yield client
    client.close()
