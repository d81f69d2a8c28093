"""Fixtures shared by the whole suite.

`stack` starts the compose stack once per session (project `sentry-sandbox-test`, its
own ports) and always tears it down, also when tests fail. KEEP_STACK=1 leaves it up, and
the next session reuses it (`up --build` still rebuilds whatever changed).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support import sdk_major
from tests.support.relay import StackRelay
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
def relay(stack: Stack) -> Iterator[StackRelay]:
    client = StackRelay(stack.relay_url)
    yield client
    client.close()


_NOT_ON_THIS_SDK: list[tuple[str, str]] = []


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On sentry-python 3, deselect the tests marked `sdk2_only` and remember why."""
    if sdk_major.SDK_MAJOR < 3:
        return
    kept, dropped = [], []
    for item in items:
        marker = item.get_closest_marker(sdk_major.MARKER)
        if marker is None:
            kept.append(item)
        else:
            dropped.append(item)
            _NOT_ON_THIS_SDK.append((item.nodeid, str(marker.kwargs.get("reason", "?"))))
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _NOT_ON_THIS_SDK:
        return
    terminalreporter.section(f"not run on sentry-sdk {sdk_major.SDK_VERSION} (sdk2_only, each with its reason)")
    for nodeid, reason in _NOT_ON_THIS_SDK:
        terminalreporter.write_line(f"{nodeid}: {reason}")
