"""The sandbox's projects as compose.yaml and .env.example configure them: id, name and public key.

The one place code reads them from (relay-mock's defaults, the benchmarks, the scripts); the
compose file and `.env.example` keep their own copies as environment variables, and the tests
keep theirs in tests/support/projects.py, so a change here is caught rather than followed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SandboxProject:
    id: int
    name: str
    public_key: str

    def dsn(self, netloc: str = "relay-mock:9000", scheme: str = "http") -> str:
        """The project's DSN at `netloc` (default: relay-mock as the compose services reach it)."""
        return f"{scheme}://{self.public_key}@{netloc}/{self.id}"

    def auth_header(self) -> dict[str, str]:
        """The X-Sentry-Auth header an SDK of this project sends."""
        return {"x-sentry-auth": f"Sentry sentry_key={self.public_key}, sentry_version=7"}


API = SandboxProject(1, "api", "a1f2c3d4e5f60718293a4b5c6d7e8f90")
DOWNSTREAM = SandboxProject(2, "downstream", "b2e3d4c5f6a70819203b4c5d6e7f8091")
# For any SDK you point at the sandbox (and Locust's baggage, loadtest/scenarios/config.py).
PLAYGROUND = SandboxProject(3, "playground", "c3d4e5f6a7b8091a2b3c4d5e6f708192")
# The OpenTelemetry service (compose profile otel).
CATALOG = SandboxProject(4, "catalog", "d4e5f6a7b8c9d0e1f2a3b4c5d6e7f809")

SANDBOX_PROJECTS = (API, DOWNSTREAM, PLAYGROUND, CATALOG)
