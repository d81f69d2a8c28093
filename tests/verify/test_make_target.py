"""`make verify-traces` hands the verifier's exit status to its user: make itself can only exit
2 for a failed recipe, so it prints the verifier's status (1 failed, 3 inconclusive), and
scripts/verify-traces.sh exits with it. A stand-in `docker` plays the verifier's container here;
tests/e2e/test_verify_cases.py runs the real one."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.support.stack import ROOT

FAKE_DOCKER = """#!/bin/sh
printf '%s\\n' "$@" > "$FAKE_DOCKER_ARGS"
exit "$FAKE_STATUS"
"""


def _run(command: list[str], tmp_path: Path, status: int) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "FAKE_STATUS": str(status),
        "FAKE_DOCKER_ARGS": str(tmp_path / "args"),
        "REPORTS_DIR": str(tmp_path / "reports"),
    }
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize("status", [1, 3])
def test_make_prints_the_verifiers_status_and_the_script_exits_with_it(tmp_path: Path, status: int) -> None:
    made = _run(["make", "--no-print-directory", "verify-traces"], tmp_path, status)
    script = _run(["scripts/verify-traces.sh"], tmp_path, status)

    assert made.returncode == 2, made.stderr  # make's own code for any failed recipe
    assert f"verify-traces: exit status {status} (1 failed, 3 inconclusive" in made.stderr, made.stderr
    assert script.returncode == status, script.stderr


def test_a_passing_run_passes_through_make_and_reports_go_to_reports_dir(tmp_path: Path) -> None:
    made = _run(["make", "--no-print-directory", "verify-traces"], tmp_path, 0)

    assert made.returncode == 0, made.stderr
    args = (tmp_path / "args").read_text().splitlines()
    assert f"{tmp_path / 'reports'}:/reports" in args
    assert args[args.index("--show-as") + 1] == str(tmp_path / "reports")
