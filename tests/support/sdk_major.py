"""The services' tests run on sentry-python 2 (.venv) and 3 (.venv3, scripts/test-sdk3.sh).

A test that holds only on 2.x says so with `sdk2_only(reason)`: on 3.x it is deselected, not
skipped, and the session's summary lists it with its reason (the exceptions docs/services.md names).
"""

from __future__ import annotations

from typing import Any

import pytest

from servicekit.sdk_version import SDK_MAJOR, SDK_VERSION, SPANS_ONLY

__all__ = ["LIFECYCLES", "SDK_MAJOR", "SDK_VERSION", "SPANS_ONLY", "sdk2_only"]

MARKER = "sdk2_only"


def sdk2_only(reason: str) -> Any:
    """Mark a test (or a parameter) that asserts what only sentry-python 2 can do."""
    return getattr(pytest.mark, MARKER)(reason=reason)


# The values of SENTRY_TRACE_LIFECYCLE a test can run under; "transactions" only on 2.x.
LIFECYCLES = [
    pytest.param("transactions", marks=sdk2_only("3.x sends no transactions (span streaming only)")),
    "stream",
]
