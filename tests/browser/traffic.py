"""Send real sentry-sdk traffic to a relay-mock (each scenario in a process of its own, see
sdk_traffic.py) and wait on relay-mock's blocking wait until it is stored."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

from relay_mock.client import ItemFilters, RelayClient

SCRIPT = Path(__file__).with_name("sdk_traffic.py")
SCENARIO_TIMEOUT_S = 60


def _command(relay_url: str, scenario: str, *args: str) -> list[str]:
    return [sys.executable, str(SCRIPT), relay_url, scenario, *args]


def _result(command: list[str], returncode: int, stdout: str, stderr: str) -> dict[str, Any]:
    if returncode != 0 or not stdout.strip():
        raise AssertionError(f"{' '.join(command[2:])} failed ({returncode}):\n{stderr[-3000:]}")
    return dict(json.loads(stdout.strip().splitlines()[-1]))


def send(relay_url: str, scenario: str, *args: str) -> dict[str, Any]:
    """Run one scenario; returns what it reports having sent (ids, trace ids)."""
    command = _command(relay_url, scenario, *args)
    done = subprocess.run(command, capture_output=True, text=True, timeout=SCENARIO_TIMEOUT_S, check=False)
    return _result(command, done.returncode, done.stdout, done.stderr)


def send_many(relay_url: str, runs: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """Run several scenarios side by side: {label: [scenario, *args]} → {label: result}."""
    started = {
        label: (command, subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        for label, (scenario, *args) in runs.items()
        for command in [_command(relay_url, scenario, *args)]
    }
    results = {}
    for label, (command, process) in started.items():
        stdout, stderr = process.communicate(timeout=SCENARIO_TIMEOUT_S)
        results[label] = _result(command, process.returncode, stdout, stderr)
    return results


def wait_for(relay_url: str, item_type: str, count: int, timeout_s: float = 10, **filters: str) -> None:
    """Block until relay-mock holds `count` items of `item_type` matching the filters."""
    with RelayClient(relay_url) as relay:
        found = relay.wait(item_type, count=count, timeout=timeout_s, **cast(ItemFilters, filters))
    assert found.satisfied, f"relay-mock holds {found.count} of {count} {item_type} items ({filters})"
