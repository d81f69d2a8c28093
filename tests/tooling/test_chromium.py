"""Which Chromium the browser tests use, and `make test` stopping early, saying how to get one,
when there is none (scripts/test.sh runs `python -m tests.support.chromium` before anything else)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support import chromium
from tests.support.stack import ROOT


@pytest.fixture
def no_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A system with neither Debian's Chromium nor Playwright's own; returns Playwright's root."""
    monkeypatch.delenv("CHROMIUM_PATH", raising=False)
    monkeypatch.setattr(chromium, "DEBIAN_CHROMIUM", tmp_path / "usr-bin-chromium")
    root = tmp_path / "ms-playwright"
    root.mkdir()
    monkeypatch.setenv("PLAYWRIGHT_BROWSERS_PATH", str(root))
    return root


def executable(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


def test_without_any_chromium_the_message_names_both_ways_to_get_one(no_browser: Path) -> None:
    missing = chromium.missing_chromium()
    assert missing is not None
    assert "apt-get install -y chromium" in missing
    assert ".venv/bin/playwright install chromium" in missing
    assert str(no_browser) in missing and "CHROMIUM_PATH" in missing


def test_playwrights_own_browser_is_used_when_debians_is_absent(no_browser: Path) -> None:
    older = executable(no_browser / "chromium-999" / "chrome-linux" / "chrome")
    newer = executable(no_browser / "chromium-1200" / "chrome-linux64" / "chrome")  # Playwright 1.65's layout
    assert chromium.chromium_path() == newer != older
    assert chromium.missing_chromium() is None


def test_debians_chromium_comes_before_playwrights(no_browser: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    executable(no_browser / "chromium-1200" / "chrome-linux" / "chrome")
    debian = executable(no_browser.parent / "debian" / "chromium")
    monkeypatch.setattr(chromium, "DEBIAN_CHROMIUM", debian)
    assert chromium.chromium_path() == debian


def test_a_chromium_path_that_is_not_there_is_named(no_browser: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    executable(no_browser / "chromium-1200" / "chrome-linux" / "chrome")
    monkeypatch.setenv("CHROMIUM_PATH", "/nowhere/chrome")
    assert chromium.missing_chromium() == (
        "CHROMIUM_PATH is '/nowhere/chrome', and no file is there: point it at a Chromium, or unset it"
    )


def run_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tests.support.chromium"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_check_make_test_runs_first_exits_2_with_the_message(tmp_path: Path) -> None:
    # CHROMIUM_PATH is how a system without Debian's is reproduced in another process.
    env = {**os.environ, "CHROMIUM_PATH": str(tmp_path / "absent")}
    result = run_check(env)
    assert (result.returncode, result.stdout) == (2, "")
    assert "CHROMIUM_PATH" in result.stderr and str(tmp_path / "absent") in result.stderr

    present = executable(tmp_path / "chromium-1200" / "chrome-linux" / "chrome")
    result = run_check({**env, "CHROMIUM_PATH": str(present)})
    assert (result.returncode, result.stdout.strip()) == (0, str(present))


def test_make_test_runs_the_check_before_building_or_testing() -> None:
    script = (ROOT / "scripts" / "test.sh").read_text()
    check = script.index("python -m tests.support.chromium")
    assert check < script.index("prepare_images\n") < script.index("-m pytest")
