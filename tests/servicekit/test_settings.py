"""Settings from the environment: a bad value stops the start with a message naming the
variable; production refuses the development session secret."""

from __future__ import annotations

import secrets

import pytest

from servicekit.settings import ServiceSettings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ENVIRONMENT", "SESSION_SECRET", "SENTRY_DSN", "DATABASE_URL", "SENTRY_PROFILES_SAMPLE_RATE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("SENTRY_DSN", "not-a-dsn", "a DSN starts with http:// or https://"),
        ("SENTRY_DSN", "http://relay:9000/1", "a DSN carries the public key before the '@'"),
        ("SENTRY_DSN", "http://key@relay:9000/project", "a DSN ends with a numeric project id"),
        ("SENTRY_TRACES_SAMPLE_RATE", "1.5", "less than or equal to 1"),
        ("SENTRY_TRACES_SAMPLE_RATE", "-0.1", "greater than or equal to 0"),
        ("SENTRY_PROFILE_SESSION_SAMPLE_RATE", "2", "less than or equal to 1"),
        ("SENTRY_PROFILES_SAMPLE_RATE", "7", "less than or equal to 1"),
        ("FAULT_ERROR_RATE", "often", "valid number"),
        ("SENTRY_LOG_EVENT_LEVEL", "LOUD", "use one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
    ],
)
def test_an_invalid_setting_stops_the_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)

    with pytest.raises(SettingsError) as refused:
        load_settings(ServiceSettings)

    line = next(line for line in str(refused.value).splitlines() if variable in line)
    assert line.strip().startswith(f"{variable}: ")
    assert message in line


def test_production_refuses_the_development_session_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")

    with pytest.raises(SettingsError, match="SESSION_SECRET: production refuses the development default"):
        load_settings(ServiceSettings)


def test_production_starts_with_a_session_secret_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("SESSION_SECRET", secrets.token_hex(16))

    assert load_settings(ServiceSettings).is_production


def test_a_refused_start_never_prints_the_other_settings_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ENVIRONMENT", "production")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://sandbox:hunter2@db:5432/sandbox")

    with pytest.raises(SettingsError) as refused:
        load_settings(ServiceSettings)

    assert "hunter2" not in str(refused.value)


def test_the_release_is_service_at_app_version(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APP_VERSION", "2.0.1")

    assert load_settings(ServiceSettings, service_name="api").release == "api@2.0.1"


def test_the_deprecated_profiles_sample_rate_wins_over_the_session_rate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SENTRY_PROFILE_SESSION_SAMPLE_RATE", "0.1")
    monkeypatch.setenv("SENTRY_PROFILES_SAMPLE_RATE", "0.3")

    assert load_settings(ServiceSettings).profile_session_sample_rate == 0.3
