"""Tests that start the real sentry-sdk in this process end it here, so the next test starts clean."""

from __future__ import annotations

import sentry_sdk


def shut_down_sentry() -> None:
    """Flush and close the client, then leave no client and no scope data behind."""
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    sentry_sdk.get_isolation_scope().clear()
    sentry_sdk.get_current_scope().clear()
