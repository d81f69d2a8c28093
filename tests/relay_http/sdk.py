"""Run the real sentry-python SDK against a relay-mock (sdk_client.py, in a process of its own)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("sdk_client.py")
RUN_TIMEOUT_S = 60


def run_sdk(dsn: str, *actions: str, **options: str | bool) -> dict[str, Any]:
    """Run the actions with the SDK; returns what it reports having sent (ids, trace ids).

    `options` become flags: release="x@1" → --release x@1, orphan=True → --orphan.
    """
    command = [sys.executable, str(SCRIPT), dsn, *actions]
    for name, value in options.items():
        flag = "--" + name.replace("_", "-")
        if value is True:
            command.append(flag)
        elif value is not False:
            command += [flag, value]
    done = subprocess.run(command, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False)
    if done.returncode != 0 or not done.stdout.strip():
        raise AssertionError(f"the SDK run {actions} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))
