"""CATALOG_PROPAGATION says how catalog reads and writes trace context; a bad value stops it at
start naming the variable, and the OTLP URLs come from its DSN as Sentry's SDK derives them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from catalog.settings import CatalogSettings
from catalog.telemetry import OtlpTarget
from servicekit.settings import SettingsError, load_settings
from tests.support.projects import CATALOG
from tests.support.stack import ROOT


def test_propagation_defaults_to_sentry(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CATALOG_PROPAGATION", raising=False)
    settings = load_settings(CatalogSettings)
    assert settings.catalog_propagation == "sentry"
    assert settings.port == 8002 and settings.service_name == "catalog"


@pytest.mark.parametrize("value", ["sentry", "w3c"])
def test_propagation_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CATALOG_PROPAGATION", value)
    assert load_settings(CatalogSettings).catalog_propagation == value


@pytest.mark.parametrize("value", ["b3", "W3C ", "tracecontext", "both"])
def test_a_bad_propagation_names_the_variable(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CATALOG_PROPAGATION", value)
    with pytest.raises(SettingsError) as raised:
        load_settings(CatalogSettings)
    assert "CATALOG_PROPAGATION" in str(raised.value) and repr(value) in str(raised.value)


def test_the_process_stops_at_start_naming_the_bad_setting() -> None:
    env = {**os.environ, "CATALOG_PROPAGATION": "zipkin", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "catalog"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "CATALOG_PROPAGATION" in result.stderr and "'zipkin'" in result.stderr, result.stderr


def test_otlp_urls_and_auth_come_from_the_dsn() -> None:
    target = OtlpTarget.from_dsn(CATALOG.dsn("http://relay-mock:9000"), "catalog/1.0.0")
    assert target.traces_url == "http://relay-mock:9000/api/4/integration/otlp/v1/traces/"
    assert target.logs_url == "http://relay-mock:9000/api/4/integration/otlp/v1/logs/"
    assert target.headers == {
        "X-Sentry-Auth": f"Sentry sentry_key={CATALOG.key}, sentry_version=7, sentry_client=catalog/1.0.0"
    }
