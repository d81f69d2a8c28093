"""The pytest plugin as a user gets it: `pip install ./relay-mock` into a fresh virtual
environment (no sandbox on its path), the example test of docs/testing-your-service.md run by
that environment's pytest against a running relay-mock; it passes, and the same file with a
broken expectation fails naming what did arrive."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.relay_server import REPO, RelayMock, free_port

pytestmark = pytest.mark.slow

DOCS = REPO / "docs" / "testing-your-service.md"
SHOP_DSN = "http://0123456789abcdef0123456789abcdef@127.0.0.1:9000/7"
INSTALL_TIMEOUT_S = 300
RUN_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def relay_env() -> dict[str, str]:
    # The project the example sends to; declaring it replaces the sandbox's three.
    return {"RELAY_PROJECT_SHOP": SHOP_DSN}


def _clean_env() -> dict[str, str]:
    """The environment without the sandbox: no PYTHONPATH, no RELAY_* of the developer's shell."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTEST_ADDOPTS") and not key.startswith(("RELAY_", "PYTEST_"))
    }


@pytest.fixture(scope="session")
def user_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with ./relay-mock, pytest and the example's own needs."""
    root = tmp_path_factory.mktemp("user-venv")
    # Built from a copy: a build in place leaves build/ and *.egg-info in the repository.
    source = shutil.copytree(
        REPO / "relay-mock", root / "relay-mock", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=INSTALL_TIMEOUT_S)
    wheelhouse = REPO / "wheelhouse"
    find_links = ["--find-links", str(wheelhouse)] if any(wheelhouse.glob("*.whl")) else []
    packages = [str(source), "pytest", "sentry-sdk", "fastapi"]
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *find_links, *packages],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return venv


def example() -> str:
    """The docs page's example test, exactly as printed there."""
    text = DOCS.read_text()
    match = re.search(r"<!-- example: test_checkout\.py.*?-->\n```python\n(.*?)```", text, re.S)
    assert match, f"{DOCS} lost its example block"
    return match.group(1)


def run_example(venv: Path, relay: RelayMock, directory: Path, source: str) -> subprocess.CompletedProcess[str]:
    directory.mkdir()
    (directory / "test_checkout.py").write_text(source)
    return subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--relay-url", relay.url],
        cwd=directory,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )


def broken(source: str, old: str, new: str) -> str:
    assert old in source, f"the example no longer holds {old!r}"
    return source.replace(old, new)


def test_the_venv_runs_relay_mock_from_its_own_install_not_from_the_sandbox(user_venv: Path) -> None:
    where = subprocess.run(
        [str(user_venv / "bin" / "python"), "-c", "import relay_mock.pytest_plugin as p; print(p.__file__)"],
        cwd=user_venv,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(user_venv)) and "site-packages" in where, where
    # The installed server brings its web UI along.
    assert (Path(where).parent / "ui" / "index.html").is_file()


def test_the_docs_example_passes_against_a_running_relay_mock(
    user_venv: Path, relay: RelayMock, tmp_path: Path
) -> None:
    done = run_example(user_venv, relay, tmp_path / "example", example())

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout


def test_waiting_for_what_never_arrives_fails_naming_what_did(
    user_venv: Path, relay: RelayMock, tmp_path: Path
) -> None:
    source = broken(
        example(),
        'relay.wait_for("event", project="shop")',
        'relay.wait_for("event", project="payments", timeout=3)',
    )

    done = run_example(user_venv, relay, tmp_path / "wrong-project", source)

    assert done.returncode == 1, done.stdout[-3000:]
    assert "waited 3 s for 1 event item(s) project=payments; 0 matched" in done.stdout, done.stdout[-3000:]
    # What arrived: the shop's error event and transaction, with their trace id.
    assert re.search(r"1 event from shop, 1 transaction from shop", done.stdout), done.stdout[-3000:]
    assert re.search(r"project shop \(id 7\): trace [0-9a-f]{32} event 'ValueError: empty cart'", done.stdout)


def test_a_trace_missing_an_expected_service_fails_the_verdict(
    user_venv: Path, relay: RelayMock, tmp_path: Path
) -> None:
    source = broken(
        example(),
        'expect={"expect_services": ["shop"], "expect_errors_from": ["shop"]}',
        'expect={"expect_services": ["shop", "payments"], "expect_errors_from": ["shop"]}, deadline=1',
    )

    done = run_example(user_venv, relay, tmp_path / "missing-service", source)

    assert done.returncode == 1, done.stdout[-3000:]
    assert re.search(
        r"FAILED completeness/missing_transaction trace [0-9a-f]{32}: no payments transaction arrived", done.stdout
    ), done.stdout[-3000:]


def test_a_dsn_for_an_unknown_project_fails_naming_the_known_ones(
    user_venv: Path, relay: RelayMock, tmp_path: Path
) -> None:
    source = broken(example(), 'relay.dsn("shop")', 'relay.dsn("payments")')

    done = run_example(user_venv, relay, tmp_path / "unknown-project", source)

    assert done.returncode == 1, done.stdout[-3000:]
    assert "has no project 'payments'; it knows: shop (id 7)" in done.stdout, done.stdout[-3000:]


def test_a_dsn_with_a_wrong_key_fails_naming_the_refusal(user_venv: Path, relay: RelayMock, tmp_path: Path) -> None:
    source = broken(example(), 'relay.dsn("shop")', 'relay.dsn("shop").replace("0123456789abcdef", "fedcba9876543210")')
    source = broken(source, 'relay.wait_for("event", project="shop")', 'relay.wait_for("event", timeout=3)')

    done = run_example(user_venv, relay, tmp_path / "wrong-key", source)

    assert done.returncode == 1, done.stdout[-3000:]
    assert "Nothing arrived at all" in done.stdout, done.stdout[-3000:]
    assert re.search(r"relay-mock refused \(newest first\):\n\s+401 ", done.stdout), done.stdout[-3000:]


def test_no_relay_mock_at_the_address_fails_naming_it(user_venv: Path, tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    directory = tmp_path / "nowhere"
    directory.mkdir()
    (directory / "test_checkout.py").write_text(example())

    done = subprocess.run(
        [str(user_venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--relay-url", nowhere],
        cwd=directory,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )

    assert done.returncode == 1, done.stdout[-3000:]
    assert f"cannot reach relay-mock at {nowhere} (--relay-url / RELAY_URL)" in done.stdout, done.stdout[-3000:]
