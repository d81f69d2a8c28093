"""The compose stack the tests run against: its own project name and ports, so a
user's `make up` stack is never touched, and torn down at the end of the session."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]

TEST_PORTS = {
    "API_PORT": "18000",
    "DOWNSTREAM_PORT": "18001",
    "RELAY_PORT": "19000",
    "SPOTLIGHT_PORT": "18969",  # relay-mock again, on Spotlight's port (8969 in the dev stack)
    "LOCUST_PORT": "18089",
    "DB_PORT": "15432",
}


@dataclass
class Stack:
    project: str
    env: dict[str, str] = field(repr=False)

    def port(self, name: str) -> int:
        return int(self.env[name])

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port('API_PORT')}"

    @property
    def downstream_url(self) -> str:
        return f"http://127.0.0.1:{self.port('DOWNSTREAM_PORT')}"

    @property
    def relay_url(self) -> str:
        return f"http://127.0.0.1:{self.port('RELAY_PORT')}"

    @property
    def locust_url(self) -> str:
        return f"http://127.0.0.1:{self.port('LOCUST_PORT')}"

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://sandbox:sandbox@127.0.0.1:{self.port('DB_PORT')}/sandbox"

    def compose(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["docker", "compose", *args],
            cwd=ROOT,
            env=self.env,
            check=check,
            text=True,
            capture_output=True,
            timeout=timeout,
        )

    def up(self, *services: str) -> None:
        result = self.compose("up", "-d", "--build", "--wait", "--wait-timeout", "240", *services, check=False)
        if result.returncode != 0:
            logs = self.compose("logs", "--tail", "60", check=False).stdout
            raise RuntimeError(f"stack did not come up:\n{result.stderr}\n{logs}")

    @contextmanager
    def reconfigured(self, *services: str, **env: str) -> Iterator[None]:
        """Recreate services with extra settings for the block, then as they were."""
        changed = Stack(self.project, {**self.env, **env})
        changed.up(*services)
        try:
            yield
        finally:
            self.up(*services)

    def run(self, service: str, *args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        """A one-off container of a service (its image's entry point), on the stack's network."""
        return self.compose("run", "--rm", "--no-deps", "-T", service, *args, check=False, timeout=timeout)

    def down(self) -> None:
        self.compose("down", "--volumes", "--remove-orphans", "--timeout", "5", check=False)

    def wait_healthy(self, url: str, deadline_s: float = 60) -> None:
        deadline = time.monotonic() + deadline_s
        last: object = None
        while time.monotonic() < deadline:
            try:
                if httpx.get(url, timeout=2).status_code == 200:
                    return
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.2)
        raise TimeoutError(f"{url} not healthy after {deadline_s}s ({last})")


def make_test_stack() -> Stack:
    env = dict(os.environ)
    for name, default in TEST_PORTS.items():
        env.setdefault(name, default)
    if env.get("OFFLINE") == "1":  # the same mapping as scripts/lib.sh
        env.setdefault("PYTHON_IMAGE", "sandbox-offline/python:3.11")
        env.setdefault("POSTGRES_IMAGE", "sandbox-offline/postgres:15")
    env["COMPOSE_PROJECT_NAME"] = env.get("SANDBOX_TEST_PROJECT", "sentry-sandbox-test")
    return Stack(project=env["COMPOSE_PROJECT_NAME"], env=env)
