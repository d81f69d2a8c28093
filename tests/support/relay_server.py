"""relay-mock as a local process for tests: a fixed port and data directory, so it can stop,
crash (`kill -9`) and come back on the same store. Extra `RELAY_*` settings go in `env`."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

import httpx

REPO = Path(__file__).resolve().parents[2]
READY_DEADLINE_S = 20
STOP_GRACE_S = 3


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def command_is_ours(command: list[str]) -> bool:
    return command[0] == sys.executable


class RelayMock:
    """relay-mock as a subprocess on a fixed port and data directory: it can stop and come back."""

    def __init__(
        self, data_dir: Path, *, env: Mapping[str, str] | None = None, command: list[str] | None = None
    ) -> None:
        self.data_dir = data_dir
        self.env = dict(env or {})
        # The sandbox's own code by default; a user's installed `relay-mock serve` when given.
        self.command = command or [sys.executable, "-m", "relay_mock", "serve"]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "relay-mock.log"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> RelayMock:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def pid(self) -> int:
        assert self.process is not None, "relay-mock is not running"
        return self.process.pid

    def start(self) -> None:
        # The caller's RELAY_* variables (a developer's shell) must not leak into a test's relay.
        env = {key: value for key, value in os.environ.items() if not key.startswith("RELAY_")}
        if not command_is_ours(self.command):
            # A user's install must run on what it installed, not on the sandbox's path.
            env = {key: value for key, value in env.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
        env |= {"RELAY_DATA_DIR": str(self.data_dir), "RELAY_PORT": str(self.port), "RELAY_HOST": "127.0.0.1"}
        env |= self.env
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                self.command,
                cwd=REPO / "relay-mock" if command_is_ours(self.command) else self.data_dir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self._wait_ready()

    def stop(self) -> None:
        """A clean shutdown (SIGTERM), as `docker stop` does."""
        if self.process is None:
            return
        self.process.terminate()
        try:
            # uvicorn waits for open event streams to end before it exits; do not wait for them long.
            self.process.wait(timeout=STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def crash(self) -> None:
        """`kill -9`: no shutdown code runs."""
        assert self.process is not None, "relay-mock is not running"
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def memory_kib(self) -> dict[str, int]:
        """VmRSS (resident now) and VmHWM (the peak so far) from /proc/<pid>/status, in KiB."""
        found: dict[str, int] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0])
        return found

    def log_tail(self, chars: int = 3000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""

    def _wait_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + READY_DEADLINE_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"relay-mock exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/api/relay/healthcheck/ready/", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"relay-mock not ready after {READY_DEADLINE_S}s:\n{self.log_tail()}")
