"""Sentry DSNs: `<scheme>://<public key>@<host>[:port][/path]/<project id>`."""

from __future__ import annotations

from urllib.parse import urlsplit


def build_dsn(base_url: str, public_key: str, project_id: int) -> str:
    """The DSN an SDK sends to for a project of the relay-mock reached at `base_url`."""
    parts = urlsplit(base_url)
    return f"{parts.scheme}://{public_key}@{parts.netloc}{parts.path.rstrip('/')}/{project_id}"
