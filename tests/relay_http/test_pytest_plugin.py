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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.relay_server import REPO, RelayMock, free_port
from tests.support.requirements import pinned

pytestmark = pytest.mark.slow

DOCS = REPO / "docs" / "testing-your-service.md"
SHOP_DSN = "http://0123456789abcdef0123456789abcdef@127.0.0.1:9000/7"
INSTALL_TIMEOUT_S = 300
RUN_TIMEOUT_S = 120


# Which sentry-sdk the example runs on. Users have both majors today: 2.x as the services' lock
# pins it, 3.x (span streaming only: a served request is a segment span, not a transaction), and
# whatever a plain `pip install sentry-sdk` resolves to, which the test reports.
SDKS = {
    "sdk2": "sentry-sdk==" + pinned("service.txt", "sentry-sdk"),
    "sdk3": "sentry-sdk==" + pinned("service-sdk3.txt", "sentry-sdk"),
    "sdk-from-index": "sentry-sdk",
}


def _clean_env() -> dict[str, str]:
    """The environment without the sandbox: no PYTHONPATH, no RELAY_* of the developer's shell."""
    return {
        key: value
        for key, value in os.environ.items()
        if key not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTEST_ADDOPTS") and not key.startswith(("RELAY_", "PYTEST_"))
    }


@dataclass(frozen=True)
class UserVenv:
    path: Path
    sentry_sdk: str  # the version installed

    def bin(self, name: str) -> str:
        return str(self.path / "bin" / name)


_venvs: dict[str, UserVenv] = {}


def user_venv_for(sdk: str, tmp_path_factory: pytest.TempPathFactory) -> UserVenv:
    """A fresh virtual environment with ./relay-mock, pytest, fastapi and one sentry-sdk: what
    the docs' "Install and start" makes. Built once per sentry-sdk requirement per session."""
    if sdk in _venvs:
        return _venvs[sdk]
    root = tmp_path_factory.mktemp(f"user-{sdk}")
    # Built from a copy: a build in place leaves build/ and *.egg-info in the repository.
    source = shutil.copytree(
        REPO / "relay-mock", root / "relay-mock", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=INSTALL_TIMEOUT_S)
    wheelhouse = REPO / "wheelhouse"
    find_links = ["--find-links", str(wheelhouse)] if any(wheelhouse.glob("*.whl")) else []
    packages = [str(source), "pytest", SDKS[sdk], "fastapi"]
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", *find_links, *packages],
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT_S,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    version = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sentry_sdk; print(sentry_sdk.VERSION)"],
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    _venvs[sdk] = UserVenv(venv, version)
    return _venvs[sdk]


@pytest.fixture(scope="session")
def user_venv(tmp_path_factory: pytest.TempPathFactory) -> UserVenv:
    """The environment a new user gets today: whatever sentry-sdk the index serves."""
    return user_venv_for("sdk-from-index", tmp_path_factory)


def start_users_relay(venv: UserVenv, tmp_path_factory: pytest.TempPathFactory) -> RelayMock:
    """relay-mock as the docs start it: `relay-mock serve` from the user's own install."""
    return RelayMock(
        tmp_path_factory.mktemp("relay"),
        env={"RELAY_PROJECT_SHOP": SHOP_DSN},
        command=[venv.bin("relay-mock"), "serve"],
    )


@pytest.fixture(scope="module")
def relay(user_venv: UserVenv, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RelayMock]:
    # The project the example sends to; declaring it replaces the sandbox's three.
    with start_users_relay(user_venv, tmp_path_factory) as server:
        yield server


def example() -> str:
    """The docs page's example test, exactly as printed there."""
    text = DOCS.read_text()
    match = re.search(r"<!-- example: test_checkout\.py.*?-->\n```python\n(.*?)```", text, re.S)
    assert match, f"{DOCS} lost its example block"
    return match.group(1)


def run_example(venv: UserVenv, relay: RelayMock, directory: Path, source: str) -> subprocess.CompletedProcess[str]:
    directory.mkdir()
    (directory / "test_checkout.py").write_text(source)
    return subprocess.run(
        [venv.bin("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--relay-url", relay.url],
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


def test_the_venv_runs_relay_mock_from_its_own_install_not_from_the_sandbox(user_venv: UserVenv) -> None:
    where = subprocess.run(
        [user_venv.bin("python"), "-c", "import relay_mock.pytest_plugin as p; print(p.__file__)"],
        cwd=user_venv.path,
        env=_clean_env(),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(user_venv.path)) and "site-packages" in where, where
    # The installed server brings its web UI along.
    assert (Path(where).parent / "ui" / "index.html").is_file()


@pytest.mark.parametrize("sdk", list(SDKS))
def test_the_docs_example_passes_on_each_sentry_sdk_against_the_users_own_relay_mock(
    sdk: str, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    venv = user_venv_for(sdk, tmp_path_factory)
    with capsys.disabled():
        print(f"\n[{sdk}] the example runs on sentry-sdk {venv.sentry_sdk}")
    if sdk == "sdk2":
        assert venv.sentry_sdk.startswith("2."), venv.sentry_sdk
    if sdk == "sdk3":
        assert venv.sentry_sdk.startswith("3."), venv.sentry_sdk

    with start_users_relay(venv, tmp_path_factory) as relay:
        done = run_example(venv, relay, tmp_path / "example", example())

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout


def test_waiting_for_what_never_arrives_fails_naming_what_did(
    user_venv: UserVenv, relay: RelayMock, tmp_path: Path
) -> None:
    source = broken(
        example(),
        'relay.wait_for("event", project="shop")',
        'relay.wait_for("event", project="payments", timeout=3)',
    )

    done = run_example(user_venv, relay, tmp_path / "wrong-project", source)

    assert done.returncode == 1, done.stdout[-3000:]
    assert "waited 3 s for 1 event item(s) project=payments; 0 matched" in done.stdout, done.stdout[-3000:]
    # What arrived: the shop's error event and its served request (a transaction on sentry-sdk 2,
    # span items on 3), with their trace id.
    assert re.search(r"1 event from shop, \d+ (transaction|span) from shop", done.stdout), done.stdout[-3000:]
    assert re.search(r"project shop \(id 7\): trace [0-9a-f]{32} event 'ValueError: empty cart'", done.stdout)


def test_a_trace_missing_an_expected_service_fails_the_verdict(
    user_venv: UserVenv, relay: RelayMock, tmp_path: Path
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
    user_venv: UserVenv, relay: RelayMock, tmp_path: Path
) -> None:
    source = broken(example(), 'relay.dsn("shop")', 'relay.dsn("payments")')

    done = run_example(user_venv, relay, tmp_path / "unknown-project", source)

    assert done.returncode == 1, done.stdout[-3000:]
    assert "has no project 'payments'; it knows: shop (id 7)" in done.stdout, done.stdout[-3000:]


def test_a_dsn_with_a_wrong_key_fails_naming_the_refusal(user_venv: UserVenv, relay: RelayMock, tmp_path: Path) -> None:
    source = broken(example(), 'relay.dsn("shop")', 'relay.dsn("shop").replace("0123456789abcdef", "fedcba9876543210")')
    source = broken(source, 'relay.wait_for("event", project="shop")', 'relay.wait_for("event", timeout=3)')

    done = run_example(user_venv, relay, tmp_path / "wrong-key", source)

    assert done.returncode == 1, done.stdout[-3000:]
    assert "Nothing arrived at all" in done.stdout, done.stdout[-3000:]
    assert re.search(r"relay-mock refused \(newest first\):\n\s+401 ", done.stdout), done.stdout[-3000:]


def test_no_relay_mock_at_the_address_fails_naming_it(user_venv: UserVenv, tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    directory = tmp_path / "nowhere"
    directory.mkdir()
    (directory / "test_checkout.py").write_text(example())

    done = subprocess.run(
        [user_venv.bin("python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", "--relay-url", nowhere],
        cwd=directory,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )

    assert done.returncode == 1, done.stdout[-3000:]
    assert f"cannot reach relay-mock at {nowhere} (--relay-url / RELAY_URL)" in done.stdout, done.stdout[-3000:]


# Two requests of one app under FastAPI's TestClient, no incoming trace headers.
TWO_REQUESTS = """
import sentry_sdk
from fastapi import FastAPI
from fastapi.testclient import TestClient

app = FastAPI()


@app.get("/ping/{n}")
def ping(n: int) -> dict[str, int]:
    return {"n": n}


def test_two_requests_are_two_traces(relay):
    relay.clear()
    sentry_sdk.init(dsn=relay.dsn("shop"), traces_sample_rate=1.0)
    client = TestClient(app)
    client.get("/ping/1")
    client.get("/ping/2")
    sentry_sdk.flush()
    first, second = relay.wait_for_request(project="shop", count=2)
    assert first.sdk and first.sdk.startswith("sentry.python/")
    verdict = relay.verify(first.trace_id)
    assert first.trace_id != second.trace_id and verdict.ok, verdict.explain()
"""


@pytest.mark.parametrize("sdk", ["sdk2", "sdk3"])
def test_independent_requests_sharing_a_trace_under_testclient_are_named_by_the_verifier(
    sdk: str, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """sentry-sdk 3 under TestClient puts independent requests in one trace (issue 21): the
    verifier's `shared_trace` names it, with the span no item holds; on 2.x each has its own."""
    venv = user_venv_for(sdk, tmp_path_factory)
    with start_users_relay(venv, tmp_path_factory) as relay:
        done = run_example(venv, relay, tmp_path / "two-requests", TWO_REQUESTS)

    if sdk == "sdk2":
        assert done.returncode == 0, done.stdout[-3000:]
        return
    assert done.returncode == 1, done.stdout[-3000:]
    assert re.search(
        r"FAILED sdk_pitfalls/shared_trace trace [0-9a-f]{32}: 2 independent requests of shop share this trace"
        r" under span [0-9a-f]{16}, which no item of the trace holds",
        done.stdout,
    ), done.stdout[-3000:]
