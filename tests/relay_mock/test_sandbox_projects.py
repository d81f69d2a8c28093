"""The sandbox's projects are written down once in code (relay_mock/sandbox_projects.py) and once
in the tests (tests/support/projects.py); relay-mock's defaults, compose.yaml, `.env.example` and
Locust's default key must all name the same ids and keys, or SDKs would be refused with 401."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from relay_mock import sandbox_projects
from relay_mock.settings import load_projects
from tests.browser.sdk_traffic import KEYS
from tests.support.projects import API, PLAYGROUND, PROJECTS, Project
from tests.support.stack import ROOT

DSN = re.compile(r"(?P<var>[A-Z]+)_SENTRY_DSN(?::-|=)(?P<dsn>http://[0-9a-f]{32}@relay-mock:9000/\d+)")


def compose_dsn(project: Project) -> str:
    return project.dsn("http://relay-mock:9000")


def test_the_code_names_the_same_projects_as_the_tests() -> None:
    in_code = {(p.id, p.name, p.public_key) for p in sandbox_projects.SANDBOX_PROJECTS}
    assert in_code == {(p.id, p.name, p.key) for p in PROJECTS}
    assert sandbox_projects.API.dsn() == compose_dsn(API)


def test_relay_mock_without_settings_accepts_api_downstream_and_playground() -> None:
    projects = load_projects({})
    assert {(p.id, p.name, p.public_key) for p in projects.values()} == {
        (p.id, p.name, p.key) for p in PROJECTS if p.name != "catalog"
    }


@pytest.mark.parametrize("path", ["compose.yaml", ".env.example"])
def test_the_compose_defaults_and_the_example_settings_name_the_same_dsns(path: str) -> None:
    found = {m["var"].lower(): m["dsn"] for m in DSN.finditer((ROOT / path).read_text())}
    assert found, f"no *_SENTRY_DSN in {path}"
    expected = {p.name: compose_dsn(p) for p in PROJECTS}
    assert found == {name: expected[name] for name in found}


def test_locusts_default_key_is_the_playground_projects() -> None:
    env = {k: v for k, v in os.environ.items() if k != "LOCUST_SENTRY_PUBLIC_KEY"}
    env["PYTHONPATH"] = str(ROOT / "loadtest")
    result = subprocess.run(
        [sys.executable, "-c", "from scenarios.config import PUBLIC_KEY; print(PUBLIC_KEY)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == PLAYGROUND.key


def test_the_browser_tests_sdk_script_names_the_same_keys() -> None:
    assert KEYS == {p.name: (p.id, p.key) for p in PROJECTS if p.name in KEYS}
    assert set(KEYS) == {"api", "downstream", "playground"}
