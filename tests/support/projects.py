"""The sandbox's projects as the tests know them: id, name and public key.

The tests' one copy, kept apart from the code's (relay-mock/relay_mock/sandbox_projects.py) on
purpose: relay-mock's defaults, compose.yaml and `.env.example` are checked against it, not
derived from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Project:
    """One of the sandbox's projects (relay-mock's defaults and compose.yaml's RELAY_PROJECT_*)."""

    id: int
    name: str
    key: str

    def dsn(self, relay_url: str) -> str:
        return f"http://{self.key}@{urlsplit(relay_url).netloc}/{self.id}"

    def envelope_url(self, relay_url: str) -> str:
        return f"{relay_url}/api/{self.id}/envelope/"

    def store_url(self, relay_url: str) -> str:
        return f"{relay_url}/api/{self.id}/store/"

    @property
    def auth(self) -> dict[str, str]:
        """The X-Sentry-Auth header, as sentry-python sends it."""
        return {"X-Sentry-Auth": f"Sentry sentry_key={self.key}, sentry_version=7, sentry_client=tests/1.0"}


API = Project(1, "api", "a1f2c3d4e5f60718293a4b5c6d7e8f90")
DOWNSTREAM = Project(2, "downstream", "b2e3d4c5f6a70819203b4c5d6e7f8091")
PLAYGROUND = Project(3, "playground", "c3d4e5f6a7b8091a2b3c4d5e6f708192")
CATALOG = Project(4, "catalog", "d4e5f6a7b8c9d0e1f2a3b4c5d6e7f809")
PROJECTS = (API, DOWNSTREAM, PLAYGROUND, CATALOG)
