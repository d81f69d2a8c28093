"""The web UI's type check (`make lint` runs tsc over relay_mock/ui/*.js) rejects a UI that reads
a field the API does not send, and every UI module takes part in it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "relay-mock" / "relay_mock" / "ui"
UI_CHECK = ROOT / "relay-mock" / "ui-check"


@pytest.fixture(scope="module")
def tsc() -> Path:
    """The pinned TypeScript, installed the way `make lint` installs it."""
    subprocess.run(["bash", "-c", "source scripts/lib.sh && ensure_ui_check"], cwd=ROOT, check=True)
    return UI_CHECK / "node_modules" / ".bin" / "tsc"


def check_copy(tsc: Path, tmp_path: Path, edit: tuple[str, str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """tsc with the project's settings over a copy of the UI, one file's text replaced first."""
    copy = tmp_path / "ui"
    shutil.copytree(UI, copy)
    if edit is not None:
        name, old, new = edit
        text = (copy / name).read_text()
        assert old in text, f"{name} no longer contains {old!r}: update this test"
        (copy / name).write_text(text.replace(old, new, 1))
    config = {"extends": str(UI_CHECK / "tsconfig.json"), "include": ["ui/*.js", "ui/*.d.ts"]}
    (tmp_path / "tsconfig.json").write_text(json.dumps(config))
    return subprocess.run(
        [str(tsc), "--noEmit", "--pretty", "false", "--project", str(tmp_path / "tsconfig.json")],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_ui_as_committed_passes_the_check(tsc: Path, tmp_path: Path) -> None:
    result = check_copy(tsc, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_reading_a_field_the_api_does_not_send_fails_the_check(tsc: Path, tmp_path: Path) -> None:
    # A log record has `body`, not `message` (types.d.ts, LogRecord).
    result = check_copy(tsc, tmp_path, ("logs.js", "log.body)", "log.message)"))
    assert result.returncode != 0
    assert "logs.js" in result.stdout
    assert "Property 'message' does not exist on type 'LogRecord'" in result.stdout


def test_every_ui_module_opts_in_to_the_check() -> None:
    # tsconfig's checkJs covers them all; the comment keeps editors without it checking too.
    unchecked = [p.name for p in sorted(UI.glob("*.js")) if not p.read_text().startswith("// @ts-check\n")]
    assert unchecked == []
