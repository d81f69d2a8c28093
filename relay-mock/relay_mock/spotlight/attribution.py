"""Which project an envelope posted to `/stream` belongs to.

Spotlight takes envelopes without credentials. An SDK that also has a DSN names it in the
envelope header (`dsn`) and in the dynamic sampling context (`trace.public_key`); when relay-mock
knows that key, the envelope is stored as that project's. Everything else (an SDK with
`spotlight=` and no DSN, or a DSN relay-mock does not know) goes to the `spotlight` project,
which accepts no DSN of its own: id 0, which no configured project may take.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from relay_mock.settings import Project

SPOTLIGHT_PROJECT = Project(0, "spotlight", "")


def public_keys(header: dict[str, Any]) -> list[str]:
    """The public keys the envelope header names: its `dsn`'s, then its DSC's."""
    keys: list[str] = []
    dsn = header.get("dsn")
    if isinstance(dsn, str):
        try:
            username = urlsplit(dsn).username
        except ValueError:  # not a URL: it names no key
            username = None
        if username:
            keys.append(username)
    trace = header.get("trace")
    if isinstance(trace, dict) and isinstance(trace.get("public_key"), str) and trace["public_key"]:
        keys.append(trace["public_key"])
    return keys


def attribute(projects: dict[int, Project], header: dict[str, Any]) -> tuple[Project, str]:
    """The project and the public key the envelope is stored under ("" for the spotlight project)."""
    by_key = {p.public_key: p for p in projects.values()}
    for key in public_keys(header):
        if key in by_key:
            return by_key[key], key
    return SPOTLIGHT_PROJECT, ""
