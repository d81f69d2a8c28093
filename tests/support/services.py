"""Run api or downstream as real processes on the host (`python -m api`), pointed at the
test stack's Postgres and relay-mock: for behaviour that lives in process start-up
(settings checks, schema creation, per-service fault switches)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from tests.support.projects import API, DOWNSTREAM
from tests.support.stack import ROOT, Stack

# The projects relay-mock knows, as compose.yaml configures them.
PUBLIC_KEYS = {project.name: project.key for project in (API, DOWNSTREAM)}
PROJECT_IDS = {project.name: project.id for project in (API, DOWNSTREAM)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def unique_version() -> str:
    """An APP_VERSION no other test uses, so `release=<service>@<version>` finds this process's envelopes."""
    return f"test-{secrets.token_hex(6)}"


def service_env(stack: Stack, service: str, **settings: str) -> dict[str, str]:
    """The environment of a host process of `service` that reports to the stack's relay-mock."""
    relay_port = stack.port("RELAY_PORT")
    env = {
        "DATABASE_URL": stack.database_url,
        "SENTRY_DSN": f"http://{PUBLIC_KEYS[service]}@127.0.0.1:{relay_port}/{PROJECT_IDS[service]}",
        "SENTRY_MCP_URL": f"{stack.relay_url}/mcp",
        "APP_VERSION": unique_version(),
        "DATABASE_POOL_SIZE": "2",
    }
    if service == "api":
        env["DOWNSTREAM_URL"] = stack.downstream_url
    return {**env, **settings}


def _process_env(settings: Mapping[str, str]) -> dict[str, str]:
    # A clean environment: the test runner's own variables must not leak into the settings.
    base = {name: os.environ[name] for name in ("PATH", "LANG", "LC_ALL", "TMPDIR") if name in os.environ}
    return {**base, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1", **settings}


@dataclass
class ServiceProcess:
    service: str
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def release(self) -> str:
        return f"{self.service}@{self.env['APP_VERSION']}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_healthy(self, deadline_s: float = 45) -> None:
        """Poll `/health` until it answers 200; fail with the output if the process exits or the deadline passes."""
        deadline = time.monotonic() + deadline_s
        last: object = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(
                    f"{self.service} exited with {self.process.returncode} during start:\n{self.output()}"
                )
            try:
                response = httpx.get(f"{self.url}/health", timeout=2)
                if response.status_code == 200:
                    return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = exc
            time.sleep(0.1)
        raise AssertionError(f"{self.service} not healthy after {deadline_s}s ({last}):\n{self.output()}")


def run_to_exit(
    service: str, settings: Mapping[str, str], *, timeout_s: float = 30
) -> subprocess.CompletedProcess[str]:
    """Start `python -m <service>` and wait for it to stop by itself (a refused start)."""
    return subprocess.run(
        [sys.executable, "-m", service],
        cwd=ROOT,
        env=_process_env({"PORT": str(free_port()), **settings}),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )


@contextmanager
def running_service(
    service: str, settings: Mapping[str, str], *, wait: bool = True, deadline_s: float = 45
) -> Iterator[ServiceProcess]:
    """Start `python -m <service>` on a free port and always stop it afterwards.

    With `wait` (the default) it yields once `/health` answers 200; a start that fails or
    times out raises with the process's output. `wait=False` yields at once, so several
    processes can start together; call `wait_healthy` on each.
    """
    port = free_port()
    env = {"PORT": str(port), **settings}
    with tempfile.NamedTemporaryFile(prefix=f"{service}-", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
    log_file: IO[bytes] = log_path.open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", service], cwd=ROOT, env=_process_env(env), stdout=log_file, stderr=subprocess.STDOUT
    )
    running = ServiceProcess(service, f"http://127.0.0.1:{port}", dict(env), process, log_path)
    try:
        if wait:
            running.wait_healthy(deadline_s)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log_file.close()
        log_path.unlink(missing_ok=True)
