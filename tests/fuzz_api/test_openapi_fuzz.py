"""The services' OpenAPI schemas, fuzzed with schemathesis (its CLI, as `make fuzz-api` runs
it) against the running stack: no 5xx except where one is the point (/test-error), invalid
input refused with 4xx, and every 422 names the field it refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.stack import ROOT, Stack

pytestmark = [pytest.mark.stack, pytest.mark.slow]


def schemathesis_run(
    url: str, report: Path, *, max_examples: int = 30, exclude: str = "/test-error"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable, "-m", "schemathesis.cli", "run", f"{url}/openapi.json",
            "--checks", "not_a_server_error,negative_data_rejection,validation_names_the_field",
            "--exclude-path", exclude,
            "--phases", "examples,coverage,fuzzing",
            "--max-examples", str(max_examples),
            "--seed", "20261128",
            "--generation-database", "none",
            # One worker: hypothesis describes filter lambdas with ast.parse, and CPython 3.11
            # keeps the AST constructor's recursion depth in interpreter-wide state, so two
            # threads parsing at once can raise "AST constructor recursion depth mismatch"
            # (seen in CI on 3.11.7; cpython gh-106905).
            "--workers", "1",
            "--report", "junit", "--report-junit-path", str(report),
        ],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "SCHEMATHESIS_HOOKS": "tests.fuzz_api.hooks", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip


@pytest.mark.parametrize("service", ["api", "downstream"])
def test_a_service_survives_fuzzing_of_its_own_schema(stack: Stack, service: str, tmp_path: Path) -> None:
    url = stack.api_url if service == "api" else stack.downstream_url

    result = schemathesis_run(url, tmp_path / "schemathesis.xml")

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]


def test_the_fuzzing_fails_on_a_server_error(stack: Stack, tmp_path: Path) -> None:
    # The same run with /test-error left in must fail: the check is live.
    result = schemathesis_run(stack.api_url, tmp_path / "schemathesis.xml", max_examples=5, exclude="/nothing")

    assert result.returncode != 0
    assert "/test-error" in result.stdout and "Server error" in result.stdout, result.stdout[-3000:]
